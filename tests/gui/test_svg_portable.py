"""The rewriting that makes Qt's SVG draw the same everywhere, on small hand-written files
in the shape QSvgGenerator writes (see test_main_window for the window's real exports)."""

import base64
from xml.etree import ElementTree

import pytest

from bngui.gui import svg_portable

HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="200" height="100" viewBox="0 0 200 100" version="1.1">')


def rewritten(tmp_path, body, measure=None):
    path = tmp_path / "drawing.svg"
    path.write_text(HEAD + body + "</svg>", encoding="utf-8")
    kept = svg_portable.make_portable(path, measure=measure)
    return ElementTree.parse(path).getroot(), kept


def elements(root, name):
    return [element for element in root.iter() if element.tag.endswith("}" + name)]


def numbers(text):
    return [float(value) for value in svg_portable._NUMBERS.findall(text)]


def test_a_cosmetic_stroke_under_a_data_transform_is_drawn_in_pixels(tmp_path):
    # A curve between loss 0 and 1 under pyqtgraph's transform (y scaled by -100).
    root, _ = rewritten(tmp_path, '''
<g fill="none" stroke="#0072b2" stroke-width="2.5" transform="matrix(0.5,0,0,-100,10,90)">
<polyline fill="none" vector-effect="non-scaling-stroke" points="0,0.9 100,0.5 200,0.1" />
<path vector-effect="non-scaling-stroke" d="M0,0 L200,0 Z" />
<text x="0" y="0">kept under its transform</text>
</g>''')
    polyline, = elements(root, "polyline")
    assert numbers(polyline.get("points")) == pytest.approx([10, 0, 60, 40, 110, 80])
    path, = elements(root, "path")
    assert numbers(path.get("d")) == pytest.approx([10, 90, 110, 90])
    assert path.get("d").endswith("Z")
    for shape in (polyline, path):
        assert shape.get("vector-effect") is None
    groups = elements(root, "g")
    stroked = [group for group in groups if group.find("{*}polyline") is not None][0]
    assert stroked.get("transform") is None and stroked.get("stroke-width") == "2.5"
    text_group = [group for group in groups if group.find("{*}text") is not None][0]
    assert text_group.get("transform") == "matrix(0.5,0,0,-100,10,90)"


def test_symbols_scaled_to_their_size_keep_a_one_pixel_outline(tmp_path):
    root, _ = rewritten(tmp_path, '''
<g fill="#d55e00" stroke="#000000" stroke-width="1" transform="matrix(8,0,0,8,50,50)">
<ellipse vector-effect="non-scaling-stroke" cx="0" cy="0" rx="0.5" ry="0.5" />
</g>''')
    dot, = elements(root, "path")
    coordinates = numbers(dot.get("d"))
    assert min(coordinates[0::2]) == pytest.approx(46) and max(coordinates[0::2]) == pytest.approx(54)
    assert "C" in dot.get("d") and dot.get("vector-effect") is None
    assert not elements(root, "ellipse")


def test_a_curve_leaving_its_plot_is_cut_at_the_plot_and_needs_no_clip(tmp_path):
    root, kept = rewritten(tmp_path, '''
<defs><clipPath id="clipPath1"><path d="M20,10 L120,10 L120,90 L20,90 L20,10 Z" /></clipPath>
</defs>
<g clip-path="url(#clipPath1)"><g fill="none" stroke="#0072b2" stroke-width="2">
<polyline fill="none" points="0,50 70,50 200,50" />
<polyline fill="none" points="150,0 180,5" />
</g></g>''')
    assert kept == 0
    assert not elements(root, "clipPath") and all(
        element.get("clip-path") is None for element in root.iter())
    cut, = elements(root, "path")  # the second line lies wholly outside: gone
    assert numbers(cut.get("d")) == pytest.approx([20, 50, 70, 50, 120, 50])
    assert not elements(root, "polyline")


def test_text_wider_than_its_clip_keeps_its_whole_letters(tmp_path):
    def measure(text, family, size, weight, style):
        return 10.0 * len(text), 0.8 * size, 0.2 * size  # 10 px a letter

    root, kept = rewritten(tmp_path, '''
<defs><clipPath id="clipPath1"><path d="M0,0 L85,0 L85,40 L0,40 L0,0 Z" /></clipPath></defs>
<g clip-path="url(#clipPath1)"><g fill="none" transform="matrix(1,0,0,1,10,0)">
<text x="0" y="20" font-size="12">Keras conv+bias</text>
<text x="0" y="60" font-size="12">wholly below</text>
</g></g>''', measure)
    assert kept == 0
    text, = elements(root, "text")
    assert text.text == "Keras c"  # 10 + 7 letters end at 80; the eighth would end at 90


def test_a_clip_it_cannot_resolve_stays(tmp_path):
    root, kept = rewritten(tmp_path, '''
<defs><clipPath id="clipPath1"><path d="M0,0 L85,0 L85,40 L0,40 L0,0 Z" /></clipPath></defs>
<g clip-path="url(#clipPath1)"><g fill="none" transform="matrix(1,0,0,1,10,0)">
<text x="0" y="20" font-size="12">no measure given</text>
</g></g>''')
    assert kept == 1
    assert elements(root, "clipPath") and elements(root, "text")


def test_an_enlarged_pixel_picture_keeps_hard_edges_in_every_renderer(tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    image = QImage(2, 1, QImage.Format.Format_RGB32)
    image.setPixelColor(0, 0, QColor("#440154"))  # a two-cell heatmap
    image.setPixelColor(1, 0, QColor("#fde725"))
    root, _ = rewritten(tmp_path, f'''
<g transform="matrix(50,0,0,50,0,0)">
<image x="0" y="0" width="2" height="1" preserveAspectRatio="none"
 image-rendering="optimizeSpeed" xlink:href="{svg_portable._png(image)}" />
</g>''')
    picture, = elements(root, "image")
    data = picture.get("{http://www.w3.org/1999/xlink}href").partition(",")[2]
    enlarged = QImage.fromData(base64.b64decode(data), "PNG")
    assert (enlarged.width(), enlarged.height()) == (200, 100)  # twice its size on the page
    assert enlarged.pixelColor(99, 50).name() == "#440154"
    assert enlarged.pixelColor(100, 50).name() == "#fde725"
    assert picture.get("width") == "2"  # the same place on the page
