"""Make Qt's SVG draw the same in every renderer (Qt, librsvg, Inkscape, browsers).

1. Cosmetic strokes baked into coordinates.

pyqtgraph draws with cosmetic pens (a width in screen pixels, whatever the
scale) under the transform from data to pixels, which is huge and uneven for a
plot (a y scale of -120 for a loss between 0 and 1). QSvgGenerator writes that
as a group with the transform and shapes marked
``vector-effect="non-scaling-stroke"``. Qt's renderer and browsers honour the
mark; librsvg (``rsvg-convert``, GNOME, many converters) and ImageMagick do
not, and stroke the curves 120 times as thick: solid slabs over the plots.

Here every shape so marked is moved out of its transform: its points are
mapped to the coordinates of the document (a CSS pixel each, as on screen), so
its stroke width is the pen's width in pixels without any vector effect, which
every renderer draws alike. Text, pictures and shapes with ordinary (scaling)
strokes keep their transform; they never depended on the mark.

2. Clips resolved (see "clips" below): Qt's renderer ignores clip-path, the others
apply it. What a clip cuts is cut here instead: strokes and fills at the clip's edge,
pictures cropped, text shortened to its whole letters.

3. Pictures with hard pixel edges (heatmaps) enlarged block by block, which librsvg
and Chromium would smooth.

Qt writes few kinds of shapes (``path`` with absolute M, L, C, Q and Z;
``polyline``, ``polygon``, ``rect``, ``ellipse``, ``line``); a shape this module
cannot read is left as it was.
"""

import base64
import copy
import math
import re
from xml.etree import ElementTree

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QImage, QPainterPath

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
NON_SCALING = "non-scaling-stroke"
# Coordinates in CSS pixels: a thousandth of a pixel is finer than any screen or printer.
DECIMALS = 3
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBERS = re.compile(_NUMBER)
_PATH_TOKENS = re.compile(rf"([A-Za-z])|({_NUMBER})")
_MATRIX = re.compile(rf"^\s*matrix\(\s*({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})[\s,]+"
                     rf"({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})\s*\)\s*$")
# The commands whose arguments are all absolute points, and how many points each takes.
_POINTS_PER_COMMAND = {"M": 1, "L": 1, "T": 1, "Q": 2, "S": 2, "C": 3, "Z": 0}
_SHAPES = ("path", "polyline", "polygon", "rect", "ellipse", "circle", "line")
_KAPPA = 4 * (math.sqrt(2) - 1) / 3  # a quarter ellipse as one cubic Bézier
IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

ElementTree.register_namespace("", SVG_NAMESPACE)
ElementTree.register_namespace("xlink", XLINK_NAMESPACE)


def _tag(name):
    return f"{{{SVG_NAMESPACE}}}{name}"


def _local(tag):
    return tag.rpartition("}")[2]


def _format(value):
    text = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def parse_matrix(text):
    """The six numbers of ``matrix(a,b,c,d,e,f)``, or None for anything else."""
    match = _MATRIX.match(text or "")
    return tuple(float(value) for value in match.groups()) if match else None


def _map(matrix, x, y):
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _mapped_pairs(matrix, numbers):
    if len(numbers) % 2:
        return None
    return [_map(matrix, numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]


def _points_text(points):
    return " ".join(f"{_format(x)},{_format(y)}" for x, y in points)


def _map_path_data(matrix, data):
    """``d`` with every point mapped, or None if it has a command other than absolute
    M, L, T, Q, S, C or Z (Qt writes only M, L, C and Z)."""
    tokens = _PATH_TOKENS.findall(data)
    out, command, pending = [], None, []

    def flush():
        if command is None:
            return not pending
        per = _POINTS_PER_COMMAND[command] * 2
        if per == 0:
            return not pending
        if not pending or len(pending) % per:
            return False
        for start in range(0, len(pending), per):
            points = _mapped_pairs(matrix, pending[start:start + per])
            # After M, further points are lines.
            letter = "L" if command == "M" and start else command
            out.append(letter + " ".join(f"{_format(x)},{_format(y)}" for x, y in points))
        return True

    for letter, number in tokens:
        if letter:
            if not flush() or letter not in _POINTS_PER_COMMAND:
                return None
            command, pending = letter, []
            if letter == "Z":
                out.append("Z")
        else:
            pending.append(float(number))
    if not flush():
        return None
    return " ".join(out)


def _number(element, name, default=0.0):
    value = element.get(name)
    if value is None:
        return default
    match = _NUMBERS.fullmatch(value.strip())
    return float(match.group()) if match else None


def _ellipse_path(cx, cy, rx, ry):
    k = _KAPPA
    return (f"M{cx + rx},{cy} C{cx + rx},{cy + k * ry} {cx + k * rx},{cy + ry} {cx},{cy + ry} "
            f"C{cx - k * rx},{cy + ry} {cx - rx},{cy + k * ry} {cx - rx},{cy} "
            f"C{cx - rx},{cy - k * ry} {cx - k * rx},{cy - ry} {cx},{cy - ry} "
            f"C{cx + k * rx},{cy - ry} {cx + rx},{cy - k * ry} {cx + rx},{cy} Z")


def _as_path_data(element):
    """The outline of a rect, ellipse or circle as path data, or None."""
    name = _local(element.tag)
    if name == "rect":
        x, y, w, h = (_number(element, key) for key in ("x", "y", "width", "height"))
        if None in (x, y, w, h) or _number(element, "rx") or _number(element, "ry"):
            return None
        return f"M{x},{y} L{x + w},{y} L{x + w},{y + h} L{x},{y + h} Z"
    if name in ("ellipse", "circle"):
        cx, cy = _number(element, "cx"), _number(element, "cy")
        if name == "circle":
            rx = ry = _number(element, "r")
        else:
            rx, ry = _number(element, "rx"), _number(element, "ry")
        if None in (cx, cy, rx, ry):
            return None
        return _ellipse_path(cx, cy, rx, ry)
    return None


_GEOMETRY = {"rect": ("x", "y", "width", "height", "rx", "ry"),
             "ellipse": ("cx", "cy", "rx", "ry"), "circle": ("cx", "cy", "r")}


def _baked(element, matrix):
    """A copy of ``element`` drawn in the document's coordinates, without the vector
    effect, or None if its geometry cannot be read."""
    name = _local(element.tag)
    baked = copy.deepcopy(element)
    baked.attrib.pop("vector-effect", None)
    if name in ("polyline", "polygon"):
        numbers = [float(value) for value in _NUMBERS.findall(element.get("points", ""))]
        points = _mapped_pairs(matrix, numbers)
        if points is None:
            return None
        baked.set("points", _points_text(points))
    elif name == "line":
        ends = [_number(element, key) for key in ("x1", "y1", "x2", "y2")]
        if None in ends:
            return None
        for (x, y), (kx, ky) in zip(_mapped_pairs(matrix, ends), (("x1", "y1"), ("x2", "y2"))):
            baked.set(kx, _format(x))
            baked.set(ky, _format(y))
    else:
        data = element.get("d", "") if name == "path" else _as_path_data(element)
        mapped = None if data is None else _map_path_data(matrix, data)
        if mapped is None:
            return None
        if name != "path":
            baked.tag = _tag("path")
            for key in _GEOMETRY[name]:
                baked.attrib.pop(key, None)
        baked.set("d", mapped)
    return baked


def _painted_by_server(group, element, attribute):
    """Whether ``attribute`` (fill or stroke) is a gradient or pattern: those are placed in
    the coordinates of the transform, so mapping the shape alone would move them."""
    value = element.get(attribute) or group.get(attribute) or ""
    return value.strip().startswith("url(")


def _split_group(group, matrix):
    """Groups to put in place of ``group``: runs of its children, the non-scaling shapes
    baked into a group without transform, everything else under the transform."""
    runs = []  # [(baked?, [children])]

    def add(is_baked, child):
        if runs and runs[-1][0] == is_baked:
            runs[-1][1].append(child)
        else:
            runs.append((is_baked, [child]))

    for child in list(group):
        if _local(child.tag) not in _SHAPES or child.get("vector-effect") != NON_SCALING:
            add(False, child)
            continue
        if _painted_by_server(group, child, "stroke"):
            add(False, child)  # rare; left as Qt wrote it
            continue
        if _painted_by_server(group, child, "fill"):
            # The fill stays under the transform (with its gradient), the stroke is baked.
            filled = copy.deepcopy(child)
            filled.set("stroke", "none")
            filled.attrib.pop("vector-effect", None)
            add(False, filled)
            stroked = _baked(child, matrix)
            if stroked is not None:
                stroked.set("fill", "none")
                add(True, stroked)
            continue
        baked = _baked(child, matrix)
        add(baked is not None, baked if baked is not None else child)

    groups = []
    for is_baked, children in runs:
        part = ElementTree.Element(group.tag, dict(group.attrib))
        part.text, part.tail = group.text, None
        if is_baked:
            part.attrib.pop("transform", None)
        part.extend(children)
        groups.append(part)
    if groups:
        groups[-1].tail = group.tail
    return groups


def _has_inner_transform(group):
    return any(inner.get("transform") for inner in group.iter() if inner is not group)


def bake_cosmetic_strokes(root):
    """Rewrite the SVG tree ``root`` in place (see the module's description). A group's
    transform is taken as relative to the document: Qt writes the whole world transform on
    each group and never nests transforms; shapes under nested transforms are left alone."""
    _bake_under(root)
    _drop_needless_marks(root, transformed=False)
    return root


def _bake_under(parent):
    for index, child in reversed(list(enumerate(parent))):
        transform = child.get("transform")
        if not transform:
            _bake_under(child)
            continue
        matrix = parse_matrix(transform)
        if (_local(child.tag) != "g" or matrix is None or _has_inner_transform(child)
                or not any(shape.get("vector-effect") == NON_SCALING for shape in child)):
            continue
        parent.remove(child)
        for offset, part in enumerate(_split_group(child, matrix)):
            parent.insert(index + offset, part)


def _drop_needless_marks(element, transformed):
    """The mark changes nothing where no transform applies (clip paths, shapes drawn at the
    document's own scale): drop it there too, so no renderer has to know it."""
    for child in element:
        transform = child.get("transform")
        inner = transformed or (bool(transform) and parse_matrix(transform) != IDENTITY)
        if child.get("vector-effect") == NON_SCALING and not inner:
            del child.attrib["vector-effect"]
        _drop_needless_marks(child, inner)


# -- clips -------------------------------------------------------------------
#
# QSvgGenerator (SVG 1.1) wraps what it draws under a clip in <g clip-path="url(#id)">,
# and Qt's own renderer ignores clip-path (a documented limitation), so a curve outside its
# plot or a label wider than its cell would show there and nowhere else. Most clipped
# things lie wholly inside their clip (the clip changes nothing) or wholly outside (they
# are not drawn): both are resolved here, and strokes (the curves) are cut at the clip's
# rectangle. Only what remains partly outside keeps its clip.

EMPTY = (0.0, 0.0, -1.0, -1.0)  # a rectangle that nothing lies inside, or touches
CLIP_SLACK = 0.5  # px: anti-aliasing at a clip's edge is no reason to keep the clip


def _rectangle(path_data):
    """(left, top, right, bottom) if ``path_data`` is an axis-aligned rectangle, else None."""
    tokens = _PATH_TOKENS.findall(path_data or "")
    letters = [letter for letter, _ in tokens if letter]
    numbers = [float(number) for letter, number in tokens if not letter]
    if (not letters or letters[0] != "M" or set(letters) - {"M", "L", "Z"}
            or letters.count("M") != 1 or len(numbers) not in (8, 10)):
        return None
    points = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]
    xs, ys = {round(x, 3) for x, _ in points}, {round(y, 3) for _, y in points}
    if len(xs) != 2 or len(ys) != 2:
        return None
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        if x0 != x1 and y0 != y1:
            return None
    return min(xs), min(ys), max(xs), max(ys)


def _clip_rectangles(root):
    rectangles = {}
    for clip in root.iter(_tag("clipPath")):
        shapes = [child for child in clip if _local(child.tag) == "path"]
        if not shapes or all(not (shape.get("d") or "").strip() for shape in shapes):
            rectangles[clip.get("id")] = EMPTY  # nothing is drawn through an empty clip
        elif len(shapes) == 1 and clip.get("id"):
            rectangle = _rectangle(shapes[0].get("d"))
            if rectangle is not None:
                rectangles[clip.get("id")] = rectangle
    return rectangles


def _shape_points(element):
    """The points of a shape in its own coordinates (control points included), or None."""
    name = _local(element.tag)
    if name in ("polyline", "polygon"):
        numbers = [float(value) for value in _NUMBERS.findall(element.get("points", ""))]
    elif name == "line":
        numbers = [_number(element, key) for key in ("x1", "y1", "x2", "y2")]
    elif name in ("path", "rect", "ellipse", "circle"):
        data = element.get("d", "") if name == "path" else _as_path_data(element)
        if data is None or re.search(r"[^MLCQSTZ\d\s,.eE+-]", data):
            return None  # relative commands, arcs: not written by Qt
        numbers = [float(number) for _, number in _PATH_TOKENS.findall(data) if number]
    else:
        return None
    if None in numbers or len(numbers) % 2:
        return None
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]


def _bounds(points):
    if not points:
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(bounds, rectangle):
    return (bounds[0] >= rectangle[0] - CLIP_SLACK and bounds[1] >= rectangle[1] - CLIP_SLACK
            and bounds[2] <= rectangle[2] + CLIP_SLACK and bounds[3] <= rectangle[3] + CLIP_SLACK)


def _outside(bounds, rectangle):
    return (bounds[2] < rectangle[0] or bounds[0] > rectangle[2]
            or bounds[3] < rectangle[1] or bounds[1] > rectangle[3])


def _text_bounds(element, measure):
    size = _number(element, "font-size", 12.0)
    x, y = _number(element, "x"), _number(element, "y")
    if None in (size, x, y) or measure is None:
        return None
    width, ascent, descent = measure(element.text or "", element.get("font-family", ""), size,
                                     element.get("font-weight", "400"),
                                     element.get("font-style", "normal"))
    anchor = element.get("text-anchor", "start")
    left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return left, y - ascent, left + width, y + descent


def _element_bounds(element, matrix, measure):
    """The bounding box of ``element`` in the document's coordinates, or None if unknown."""
    name = _local(element.tag)
    if name == "text":
        local = _text_bounds(element, measure)
    elif name == "image":
        x, y, w, h = (_number(element, key) for key in ("x", "y", "width", "height"))
        local = None if None in (x, y, w, h) else (x, y, x + w, y + h)
    else:
        points = _shape_points(element)
        if points is None:
            return None
        if not points:
            return 0.0, 0.0, 0.0, 0.0  # draws nothing
        stroke = max(_number(element, "stroke-width", 0.0) or 0.0, 0.0)
        local = _bounds(points)
        if matrix == IDENTITY:
            # A baked stroke (in pixels) reaches half its width past the points.
            half = stroke / 2
            return local[0] - half, local[1] - half, local[2] + half, local[3] + half
    if local is None:
        return None
    corners = [(local[0], local[1]), (local[2], local[1]), (local[0], local[3]), (local[2], local[3])]
    return _bounds([_map(matrix, x, y) for x, y in corners])


def _cut_segment(p0, p1, rectangle):
    """The part of the segment p0-p1 inside ``rectangle`` (Liang-Barsky), or None."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - rectangle[0]), (dx, rectangle[2] - x0),
                 (-dy, y0 - rectangle[1]), (dy, rectangle[3] - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return None
    return (x0 + low * dx, y0 + low * dy), (x0 + high * dx, y0 + high * dy)


def _painter_path(element):
    """``element`` (a shape in the document's coordinates) as a QPainterPath, or None."""
    name = _local(element.tag)
    if name in ("polyline", "polygon", "line"):
        points = _shape_points(element)
        if not points:
            return None
        data = "M" + " L".join(f"{x},{y}" for x, y in points) + (" Z" if name == "polygon" else "")
    else:
        data = element.get("d", "") if name == "path" else _as_path_data(element)
    if data is None:
        return None
    path, command, pending = QPainterPath(), None, []
    for letter, number in _PATH_TOKENS.findall(data):
        if letter:
            if letter not in "MLCQZ" or pending:
                return None
            command = letter
            if letter == "Z":
                path.closeSubpath()
            continue
        pending.append(float(number))
        needed = {"M": 2, "L": 2, "Q": 4, "C": 6}.get(command)
        if needed is None:
            return None
        if len(pending) == needed:
            if command == "M":
                path.moveTo(*pending)
                command = "L"  # further pairs after M are lines
            elif command == "L":
                path.lineTo(*pending)
            elif command == "Q":
                path.quadTo(*pending)
            else:
                path.cubicTo(*pending)
            pending = []
    return None if pending else path


def _path_data(path):
    """Path data for a QPainterPath (curves kept)."""
    parts, index = [], 0
    count = path.elementCount()
    while index < count:
        element = path.elementAt(index)
        if element.isMoveTo():
            parts.append(f"M{_format(element.x)},{_format(element.y)}")
        elif element.isLineTo():
            parts.append(f"L{_format(element.x)},{_format(element.y)}")
        else:  # a curve: this point and the next two
            points = [path.elementAt(index + k) for k in range(3)]
            parts.append("C" + " ".join(f"{_format(p.x)},{_format(p.y)}" for p in points))
            index += 2
        index += 1
    return " ".join(parts)


def _cut_shape(element, fill, stroke, rectangle):
    """``element`` (in the document's coordinates) cut at ``rectangle``: its fill intersected
    with it, its outline cut at its edges. A list of elements, or None if it cannot be read."""
    path = _painter_path(element)
    if path is None:
        return None
    left, top, right, bottom = rectangle
    pieces = []
    if fill != "none":
        area = QPainterPath()
        area.addRect(QRectF(left, top, right - left, bottom - top))
        path.setFillRule(_fill_rule(element))
        filled = path.intersected(area)
        if not filled.isEmpty():
            shape = _as_path_element(element, _path_data(filled))
            shape.set("stroke", "none")
            pieces.append(shape)
    if stroke != "none":
        lines = []
        for polygon in path.toSubpathPolygons():
            points = [(point.x(), point.y()) for point in polygon]
            for p0, p1 in zip(points, points[1:]):
                cut = _cut_segment(p0, p1, rectangle)
                if cut is None:
                    continue
                if lines and lines[-1][-1] == cut[0] and cut[0] == p0:
                    lines[-1].append(cut[1])
                else:
                    lines.append([cut[0], cut[1]])
        if lines:
            outline = _as_path_element(element, " ".join(
                "M" + " L".join(f"{_format(x)},{_format(y)}" for x, y in line) for line in lines))
            outline.set("fill", "none")
            pieces.append(outline)
    return pieces


def _fill_rule(element):
    evenodd = (element.get("fill-rule") or "evenodd") == "evenodd"
    return Qt.FillRule.OddEvenFill if evenodd else Qt.FillRule.WindingFill


def _as_path_element(element, data):
    path = copy.deepcopy(element)
    for key in ("points", "x1", "y1", "x2", "y2", "x", "y", "width", "height", "cx", "cy",
                "r", "rx", "ry"):
        path.attrib.pop(key, None)
    path.tag = _tag("path")
    path.set("d", data)
    return path


def _paint_of(element, group, attribute):
    """The fill or stroke of ``element`` as it is drawn: its own, its group's, or SVG's
    default (a black fill, no stroke)."""
    default = "black" if attribute == "fill" else "none"
    return (element.get(attribute) or group.get(attribute) or default).strip()


def _local_rectangle(matrix, rectangle):
    """``rectangle`` (document coordinates) in the coordinates under ``matrix``, if the
    matrix keeps rectangles upright (scales, moves, quarter turns), else None."""
    a, b, c, d, e, f = matrix
    if not ((b == 0 and c == 0) or (a == 0 and d == 0)):
        return None
    determinant = a * d - b * c
    if determinant == 0:
        return None

    def back(x, y):
        x, y = x - e, y - f
        return (d * x - c * y) / determinant, (-b * x + a * y) / determinant

    left, top, right, bottom = rectangle
    return _bounds([back(left, top), back(right, bottom)])


def _cut_text(element, matrix, rectangle, measure):
    """Cut ``element`` (text half outside its clip) to what the clip shows, as a whole:
    the letters wholly inside, and the line only if most of its height is inside (Qt's
    renderer cannot clip, so nothing may rely on it). False if it cannot be done."""
    local = _local_rectangle(matrix, rectangle)
    bounds = _text_bounds(element, measure)
    if local is None or bounds is None or element.get("text-anchor", "start") != "start":
        return False
    text = element.text or ""
    height = bounds[3] - bounds[1]
    shown = min(bounds[3], local[3]) - max(bounds[1], local[1])
    if height <= 0 or shown < height / 2:
        element.text = ""
        return True
    x = _number(element, "x")
    family, size = element.get("font-family", ""), _number(element, "font-size", 12.0)
    weight, style = element.get("font-weight", "400"), element.get("font-style", "normal")

    def advance(prefix):
        return measure(prefix, family, size, weight, style)[0]

    first = 0  # the first letter wholly right of the clip's left edge
    while first < len(text) and x + advance(text[:first]) < local[0] - CLIP_SLACK:
        first += 1
    last = len(text)  # one past the last letter wholly left of the clip's right edge
    while last > first and x + advance(text[:last]) > local[2] + CLIP_SLACK:
        last -= 1
    if first:
        element.set("x", _format(x + advance(text[:first])))
    element.text = text[first:last].rstrip() if last > first else ""
    return True


def _cut_image(element, matrix, rectangle):
    """Crop ``element`` (a picture half outside its clip) to what the clip shows: drawn at
    twice its size on the page first, so the crop falls between pixels. False if it
    cannot be done."""
    local = _local_rectangle(matrix, rectangle)
    x, y, width, height = (_number(element, key) for key in ("x", "y", "width", "height"))
    link = element.get(f"{{{XLINK_NAMESPACE}}}href") or element.get("href") or ""
    prefix = "data:image/png;base64,"
    if local is None or None in (x, y, width, height) or width <= 0 or height <= 0 \
            or not link.startswith(prefix):
        return False
    left, top = max(x, local[0]), max(y, local[1])
    right, bottom = min(x + width, local[2]), min(y + height, local[3])
    if right <= left or bottom <= top:
        element.set("width", "0")
        return True
    image = QImage.fromData(base64.b64decode(link[len(prefix):]), "PNG")
    if image.isNull():
        return False
    a, b, c, d, _, _ = matrix
    scale_x, scale_y = math.hypot(a, b), math.hypot(c, d)
    pixels_x = max(1, math.ceil(width * scale_x * 2))
    pixels_y = max(1, math.ceil(height * scale_y * 2))
    smooth = element.get("image-rendering") == "optimizeQuality"
    image = image.scaled(pixels_x, pixels_y, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation if smooth
                         else Qt.TransformationMode.FastTransformation)
    column, row = round((left - x) / width * pixels_x), round((top - y) / height * pixels_y)
    columns = max(1, round((right - left) / width * pixels_x))
    rows = max(1, round((bottom - top) / height * pixels_y))
    element.set(f"{{{XLINK_NAMESPACE}}}href", _png(image.copy(column, row, columns, rows)))
    element.attrib.pop("href", None)
    element.set("x", _format(x + column * width / pixels_x))
    element.set("y", _format(y + row * height / pixels_y))
    element.set("width", _format(columns * width / pixels_x))
    element.set("height", _format(rows * height / pixels_y))
    return True


def resolve_clips(root, measure=None):
    """Resolve the rectangular clips of ``root`` in place (see above). ``measure(text,
    family, size, weight, style)`` -> (width, ascent, descent) of text in pixels; without it
    text keeps its clip. Returns how many clips had to stay."""
    rectangles = _clip_rectangles(root)
    kept = 0
    for wrapper in list(root.iter()):
        match = re.fullmatch(r"url\(#([^)]+)\)", wrapper.get("clip-path", "").strip())
        if not match or match.group(1) not in rectangles:
            if match:
                kept += 1
            continue
        rectangle = rectangles[match.group(1)]
        if rectangle == EMPTY:
            for child in list(wrapper):
                wrapper.remove(child)
            del wrapper.attrib["clip-path"]
            continue
        needs_clip = False
        for group in [child for child in wrapper if _local(child.tag) == "g"] or [wrapper]:
            matrix = parse_matrix(group.get("transform")) or IDENTITY
            if group.get("transform") and parse_matrix(group.get("transform")) is None:
                needs_clip = True
                continue
            for index, child in reversed(list(enumerate(group))):
                if _local(child.tag) == "g":
                    needs_clip = True
                    continue
                bounds = _element_bounds(child, matrix, measure)
                if matrix[0] * matrix[3] - matrix[1] * matrix[2] == 0:
                    group.remove(child)  # flattened to a line: draws nothing
                elif bounds is None:
                    needs_clip = True
                elif _outside(bounds, rectangle):
                    group.remove(child)
                elif _inside(bounds, rectangle):
                    continue
                elif matrix == IDENTITY and _local(child.tag) in _SHAPES and (
                        pieces := _cut_shape(child, _paint_of(child, group, "fill"),
                                             _paint_of(child, group, "stroke"), rectangle)
                        ) is not None:
                    group.remove(child)
                    for offset, piece in enumerate(pieces):
                        group.insert(index + offset, piece)
                elif _local(child.tag) == "text" and _cut_text(child, matrix, rectangle, measure):
                    if not child.text:
                        group.remove(child)
                elif _local(child.tag) == "image" and _cut_image(child, matrix, rectangle):
                    if child.get("width") == "0":
                        group.remove(child)
                else:
                    needs_clip = True
        if needs_clip:
            kept += 1
        else:
            del wrapper.attrib["clip-path"]
    _drop_unused_clips(root)
    return kept


# -- pictures drawn with hard pixel edges --------------------------------------

SHARP_LIMIT = 4096  # pixels a side: a picture is never made larger than this


def _png(image):
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return "data:image/png;base64," + base64.b64encode(bytes(data)).decode()


def sharpen_pictures(root):
    """Pictures Qt draws with hard pixel edges (a heatmap: image-rendering="optimizeSpeed")
    are smoothed by librsvg and Chromium when enlarged. Enlarged here instead, block by
    block, to twice their size on the page, every renderer draws the same blocks."""
    prefix = "data:image/png;base64,"
    for group in root.iter():
        matrix = parse_matrix(group.get("transform")) or IDENTITY
        for element in group:
            if _local(element.tag) != "image" or element.get("image-rendering") != "optimizeSpeed":
                continue
            link = element.get(f"{{{XLINK_NAMESPACE}}}href") or ""
            width, height = _number(element, "width"), _number(element, "height")
            if not link.startswith(prefix) or not width or not height:
                continue
            image = QImage.fromData(base64.b64decode(link[len(prefix):]), "PNG")
            if image.isNull():
                continue
            a, b, c, d, _, _ = matrix
            shown_x, shown_y = width * math.hypot(a, b), height * math.hypot(c, d)
            if image.width() * 1.5 >= shown_x and image.height() * 1.5 >= shown_y:
                continue  # not enlarged: nothing to smooth
            pixels_x = min(SHARP_LIMIT, max(image.width(), math.ceil(2 * shown_x)))
            pixels_y = min(SHARP_LIMIT, max(image.height(), math.ceil(2 * shown_y)))
            element.set(f"{{{XLINK_NAMESPACE}}}href", _png(image.scaled(
                pixels_x, pixels_y, Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation)))


def _drop_unused_clips(root):
    used = set(re.findall(r"url\(#([^)]+)\)", " ".join(
        value for element in root.iter() for value in element.attrib.values())))
    for defs in root.iter(_tag("defs")):
        for clip in list(defs):
            if _local(clip.tag) == "clipPath" and clip.get("id") not in used:
                defs.remove(clip)


def _drop_empty_groups(element):
    for child in list(element):
        _drop_empty_groups(child)
        if _local(child.tag) == "g" and len(child) == 0 and not (child.text or "").strip():
            element.remove(child)
        elif _local(child.tag) == "path" and not (child.get("d") or "").strip():
            element.remove(child)  # Qt writes empty paths, which Qt's own renderer warns about


def make_portable(path, replacements=(), measure=None, size=None):
    """Rewrite the SVG file that QSvgGenerator wrote at ``path`` to draw the same in every
    renderer: cosmetic strokes baked, clips resolved, pixel pictures sharpened, empty
    groups gone; ``replacements``
    are (old, new) attribute values applied to every element, as for font families;
    ``size``: (width, height) of the document in CSS pixels. Returns how many clips had to
    stay (see ``resolve_clips``)."""
    tree = ElementTree.parse(path)
    root = tree.getroot()
    if size is not None:  # Qt gives millimetres at its resolution, which may not be 96 dpi
        root.set("width", _format(size[0]))
        root.set("height", _format(size[1]))
    bake_cosmetic_strokes(root)
    mapping = dict(replacements)
    if mapping:
        for element in root.iter():
            for key, value in element.attrib.items():
                if value in mapping:
                    element.set(key, mapping[value])
    kept = resolve_clips(root, measure)
    sharpen_pictures(root)
    _drop_empty_groups(root)
    ElementTree.indent(tree, space="")
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return kept
