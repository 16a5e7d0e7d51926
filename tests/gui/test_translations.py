"""The window in Chinese: its texts are translated, the catalogue is complete and built,
View → Language records the choice, and Chinese gets a font with its glyphs.

The Chinese tests install the shipped ``bngui_zh_CN.qm`` (and Qt's ``qtbase``) as
the application does at start-up, build the window, then put English back.
"""

import importlib.util
import os
import re
import sys
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDockWidget,
    QGraphicsView,
    QGroupBox,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTabWidget,
)

from bngui.gui import i18n
from bngui.gui.presets import PRESETS
from bngui.gui.variant_names import compact_label, model_label, variant_label

REPOSITORY = Path(__file__).resolve().parents[2]
MIN_CHINESE_SHARE = 0.90
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Names that stay as they are in every language: technical terms, formats, keys, units.
TECHNICAL = re.compile(
    r"\b(?:BN|ReLU|Keras|BatchNormalization|tf\.nn|MNIST|Adam|sigmoid|softmax|logits|TensorFlow"
    r"|bngui|NaN|EMA|IDX|npz|PNG|SVG|CSV|JPEG|WebP|TIFF|fc|log10|English|ms|MB|pt|px|x|s)\b"
    r"|\b(?:Ctrl|Shift|Alt)\+\S+|\.[a-z]{2,4}\b",
)
HTML = re.compile(r"<[^>]+>|&[a-z]+;")


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "update_translations", REPOSITORY / "scripts" / "update_translations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("update_translations", module)
    spec.loader.exec_module(module)
    return module


def _plain(text):
    return HTML.sub(" ", text.replace("&&", "").replace("&", ""))


def needs_translation(text):
    """Whether ``text`` says something in words, once technical names, numbers, symbols and
    markup are set aside."""
    words = TECHNICAL.sub(" ", _plain(text))
    return re.search(r"[A-Za-z]{2,}", words) is not None or CJK.search(words) is not None


def all_texts(window):
    """Every text the window holds for the eye: buttons, labels, group titles, tabs, docks,
    combo-box items, table headers, the menus and their entries, plot titles and labels."""
    texts = []
    for widget in window.findChildren(QAbstractButton):
        texts.append(widget.text())
    for widget in window.findChildren(QLabel):
        texts.append(widget.text())
    for widget in window.findChildren(QGroupBox):
        texts.append(widget.title())
    for widget in window.findChildren(QTabWidget):
        texts += [widget.tabText(index) for index in range(widget.count())]
    for widget in window.findChildren(QDockWidget):
        texts.append(widget.windowTitle())
    for widget in window.findChildren(QComboBox):
        texts += [widget.itemText(index) for index in range(widget.count())]
    for widget in window.findChildren(QTableWidget):
        for column in range(widget.columnCount()):
            item = widget.horizontalHeaderItem(column)
            if item is not None:
                texts.append(item.text())

    def menu_texts(menu):
        for action in menu.actions():
            texts.append(action.text())
            if action.menu() is not None:
                menu_texts(action.menu())

    if hasattr(window, "menuBar"):
        for action in window.menuBar().actions():
            texts.append(action.text())
            if action.menu() is not None:
                menu_texts(action.menu())
    for view in window.findChildren(QGraphicsView):
        if view.scene() is None:
            continue
        for item in view.scene().items():
            if isinstance(item, pg.LabelItem):
                texts.append(item.text)
            elif isinstance(item, pg.AxisItem) and item.label.isVisible():
                texts.append(item.labelText)
            elif isinstance(item, pg.TextItem):
                texts.append(item.textItem.toPlainText())
    return texts


def window_texts(window):
    """The texts of ``all_texts`` that say something in words (technical names aside)."""
    return [text for text in all_texts(window) if text and needs_translation(text)]


def tooltips(window):
    from PySide6.QtWidgets import QWidget

    return [widget.toolTip() for widget in window.findChildren(QWidget)
            if widget.toolTip() and needs_translation(widget.toolTip())]


def chinese_share(texts):
    english = sorted({text for text in texts if not CJK.search(text)})
    share = 1 - sum(1 for text in texts if not CJK.search(text)) / max(1, len(texts))
    return share, english


@pytest.fixture
def chinese(qapp):
    """Chinese translators and font installed as at start-up; English again afterwards."""
    font = qapp.font()
    assert i18n.install_translators(i18n.CHINESE, qapp) == []
    i18n.use_font_for(i18n.CHINESE, qapp)
    yield
    i18n.install_translators(i18n.ENGLISH, qapp)
    qapp.setFont(font)


def test_the_technical_names_are_set_aside_but_words_are_not():
    for text in ("&PNG…", "Keras BN", "0.60", "<b>tf.nn BN</b>", "(Ctrl+Return)", "log10 ‖∇W‖",
                 "English", "Keras BatchNormalization"):
        assert not needs_translation(text), text
    for text in ("Start", "&File", "Training curves", "训练曲线", "Baseline (no BN)", "conv→BN→ReLU",
                 "Keras conv+bias→ReLU→BN", "Start (Ctrl+Return)"):
        assert needs_translation(text), text


def test_under_chinese_at_least_90_percent_of_the_windows_texts_are_chinese(chinese, fake_window, qtbot):
    window = fake_window()
    window.setup_panel.batches.setValue(40)
    window.start_training()
    qtbot.waitUntil(lambda: window.controller.history.finished is not None, timeout=10_000)
    window.redraw()
    window.tabs.setCurrentWidget(window.network_view)
    window.redraw()
    # Every tab's texts, the Draw tab's too (built with the window; showing it would load
    # the shipped models with TensorFlow).
    texts = window_texts(window)
    assert set(window_texts(window.draw_page)) <= set(texts)
    share, english = chinese_share(texts)
    technical = sorted({text for text in all_texts(window) if not needs_translation(text)})
    print(f"{share:.1%} of {len(texts)} texts are Chinese; in English: {english};"
          f" set aside as technical names, numbers or symbols: {technical}")
    assert len(texts) > 150
    assert share >= MIN_CHINESE_SHARE, f"only {share:.1%} Chinese; in English: {english}"
    tips = tooltips(window)
    tip_share, english_tips = chinese_share(tips)
    assert tip_share >= MIN_CHINESE_SHARE, f"only {tip_share:.1%} of tooltips Chinese: {english_tips}"


def test_under_chinese_presets_variants_and_models_have_chinese_names(chinese):
    for preset in PRESETS.values():
        assert CJK.search(preset.title) and CJK.search(preset.lesson_text), preset.name
    for variant_id in ("baseline", "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch4"):
        assert CJK.search(variant_label(variant_id)), variant_id
        assert CJK.search(compact_label(variant_id)), variant_id
    assert CJK.search(model_label("keras-conv-bn-relu-drawing"))
    assert CJK.search(model_label("keras-conv-bn-relu-precise"))


def test_qt_s_own_buttons_are_translated_too(chinese):
    box = QMessageBox(QMessageBox.Icon.Information, "bngui", "", QMessageBox.StandardButton.Cancel)
    assert CJK.search(box.button(QMessageBox.StandardButton.Cancel).text())


def test_chinese_gets_a_font_with_its_glyphs(chinese, qapp):
    from PySide6.QtGui import QFontDatabase

    family = i18n.cjk_family()
    if family is None:
        pytest.skip("no font with Chinese glyphs installed (fonts-noto-cjk)")
    assert family in QFontDatabase.families()
    assert qapp.font().families()[-1] == family
    assert i18n.cjk_family(["DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC"]) == "Noto Sans CJK SC"
    assert i18n.cjk_family(["DejaVu Sans"]) is None


def test_the_language_follows_the_system_unless_one_was_chosen(tmp_path):
    from PySide6.QtCore import QLocale

    assert i18n.system_language(QLocale("zh_CN")) == i18n.CHINESE
    assert i18n.system_language(QLocale("zh_TW")) == i18n.CHINESE
    assert i18n.system_language(QLocale("de_DE")) == i18n.ENGLISH
    store = QSettings(str(tmp_path / "bngui.ini"), QSettings.IniFormat)
    assert i18n.chosen_language(store) == i18n.system_language()
    i18n.save_language(store, i18n.CHINESE)
    assert i18n.chosen_language(store) == i18n.CHINESE
    assert i18n.chosen_language(store, override=i18n.ENGLISH) == i18n.ENGLISH
    store.setValue(i18n.SETTINGS_KEY, "klingon")
    assert i18n.chosen_language(store) == i18n.system_language()


def test_view_language_records_the_choice_and_says_it_takes_effect_at_the_next_launch(
        fake_window, settings_path):
    window = fake_window()
    assert [action.text() for action in window.language_menu.actions()] == ["English", "简体中文"]
    assert i18n.current_language() == i18n.ENGLISH
    assert window.language_actions[i18n.ENGLISH].isChecked()

    window.language_actions[i18n.CHINESE].trigger()
    box = window.language_box
    assert box.isVisible()
    # Said in the window's language and in the new one.
    assert "next time" in box.text() and "下次" in box.text()
    assert window.language_actions[i18n.CHINESE].isChecked()
    assert not window.language_actions[i18n.ENGLISH].isChecked()
    box.done(0)
    stored = QSettings(str(settings_path), QSettings.IniFormat)
    assert stored.value(i18n.SETTINGS_KEY) == i18n.CHINESE
    assert i18n.chosen_language(stored) == i18n.CHINESE

    assert window.choose_language(i18n.ENGLISH) is None  # the window's own: nothing to restart
    assert QSettings(str(settings_path), QSettings.IniFormat).value(i18n.SETTINGS_KEY) == i18n.ENGLISH


def test_bngui_language_sets_the_language_of_this_launch(monkeypatch):
    from bngui import cli

    monkeypatch.delenv(i18n.LANGUAGE_VARIABLE, raising=False)
    assert cli.main(["--language", "zh_CN", "train", "--list-variants"]) == 0  # lists, opens no window
    assert os.environ[i18n.LANGUAGE_VARIABLE] == "zh_CN"
    assert tuple(i18n.LANGUAGES) == cli.GUI_LANGUAGES


def test_the_catalogue_holds_every_text_of_the_code_translated_and_its_qm_is_built_from_it():
    script = _load_script()
    problems = script.problems("zh_CN")
    assert not problems, "\n".join(problems[:40])


def test_the_catalogue_keeps_the_placeholders_of_every_text():
    script = _load_script()
    for (context, source, _), (forms, _) in script.messages(script.ts_file("zh_CN")).items():
        wanted = sorted(re.findall(r"\{[a-z_]+[^}]*\}|%n", source))
        for form in forms:
            found = sorted(re.findall(r"\{[a-z_]+[^}]*\}|%n", form))
            assert found == wanted, f"[{context}] {source!r} -> {form!r}"


def test_the_qm_is_found_where_the_window_looks_for_it():
    from bngui.resource_files import translations_dir

    assert (translations_dir() / "bngui_zh_CN.qm").is_file()
    assert QApplication.instance() is None or i18n.in_language(
        i18n.CHINESE, "RunBar", "Start") != "Start"
