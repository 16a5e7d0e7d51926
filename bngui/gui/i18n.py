"""The window's language: which one, Qt's translators for it, and a font with its glyphs.

The window's texts are English source texts that go through Qt's translation
system: ``self.tr()`` in the widget classes (context: the class's name), and
``translate("Context", ...)`` or ``QT_TRANSLATE_NOOP("Context", ...)`` with an
explicit context elsewhere, so that Qt's lupdate extracts them all into
``resources/translations/bngui_zh_CN.ts`` (``scripts/update_translations.py``).
The built ``.qm`` ships in the package; Qt's own ``qtbase`` catalogue translates
its dialogs (file dialogs, message-box buttons).

The language follows the system locale (LANG, LC_ALL...) unless the user chose
one with View → Language (saved in QSettings under ``view/language``) or
started bngui with ``--language`` (or ``BNGUI_LANGUAGE``). It is set once, before the window is built:
a new choice takes effect at the next launch.
"""

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from bngui.resource_files import translations_dir

logger = logging.getLogger(__name__)

ENGLISH, CHINESE = "en", "zh_CN"
# Each language by its own name, as a language menu lists them.
LANGUAGES = {ENGLISH: "English", CHINESE: "简体中文"}
SOURCE_LANGUAGE = ENGLISH  # the texts in the code
SETTINGS_KEY = "view/language"
# Set by ``bngui --language``, or by hand: the language of this launch, whatever was saved.
LANGUAGE_VARIABLE = "BNGUI_LANGUAGE"
CATALOGUE = "bngui"  # bngui_zh_CN.qm
QT_CATALOGUE = "qtbase"  # Qt's own: qtbase_zh_CN.qm
# Fonts with the glyphs of simplified Chinese, preferred first (Linux packages
# first: fonts-noto-cjk, Adobe's Source Han, WenQuanYi; then Windows', macOS').
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Droid Sans Fallback",
)

# The plain function lupdate recognises as translate("Context", "text").
translate = QCoreApplication.translate

_installed = []  # the translators install_translators put in place
_current = [SOURCE_LANGUAGE]


def system_language(locale=None):
    """The language of ``locale`` (default: the system's) among LANGUAGES: Chinese or English."""
    locale = locale if locale is not None else QLocale.system()
    return CHINESE if locale.language() == QLocale.Language.Chinese else ENGLISH


def saved_language(store):
    """The language chosen in View → Language, or None."""
    value = store.value(SETTINGS_KEY) if store is not None else None
    return value if value in LANGUAGES else None


def save_language(store, language):
    store.setValue(SETTINGS_KEY, language)
    store.sync()


def chosen_language(store=None, override=None):
    """``override`` (--language), else the saved choice, else the system's language."""
    if override in LANGUAGES:
        return override
    return saved_language(store) or system_language()


def current_language():
    """The language the translators installed last are for."""
    return _current[0]


def _catalogue_translator(language, parent=None):
    translator = QTranslator(parent)
    if translator.load(f"{CATALOGUE}_{language}", str(translations_dir())):
        return translator
    return None


def install_translators(language, app=None):
    """Put bngui's and Qt's translators for ``language`` in place of earlier ones.

    Returns the catalogues that were not found (English needs none). Call it
    before the widgets are built: their texts are translated when they are made.
    """
    app = app if app is not None else QCoreApplication.instance()
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _current[0] = language
    if language == SOURCE_LANGUAGE:
        return []
    missing = []
    qt = QTranslator(app)
    if qt.load(f"{QT_CATALOGUE}_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        _installed.append(qt)
    else:
        missing.append(f"{QT_CATALOGUE}_{language}.qm")
    own = _catalogue_translator(language, app)
    if own is not None:
        _installed.append(own)
    else:
        missing.append(f"{CATALOGUE}_{language}.qm")
    for translator in _installed:
        app.installTranslator(translator)
    if missing:
        logger.warning("no translation for %s: %s", language, ", ".join(missing))
    return missing


def in_language(language, context, text):
    """``text`` translated into ``language`` whatever the installed translators (the
    language menu says in the new language what the choice does)."""
    if language == SOURCE_LANGUAGE:
        return text
    translator = _catalogue_translator(language)
    translated = translator.translate(context, text) if translator is not None else ""
    return translated or text


def cjk_family(families=None):
    """The first of CJK_FAMILIES among ``families`` (default: the installed fonts), or None."""
    if families is None:
        from PySide6.QtGui import QFontDatabase

        families = QFontDatabase.families()
    available = set(families)
    return next((family for family in CJK_FAMILIES if family in available), None)


def use_font_for(language, app=None):
    """For Chinese, add a font with simplified-Chinese glyphs after the application font's
    family: Latin text keeps its font, Chinese gets its own glyphs (not a Japanese font's
    forms, and no boxes). The family used, or None (English, or no such font installed)."""
    if language != CHINESE:
        return None
    family = cjk_family()
    if family is None:
        logger.warning("no font with Chinese glyphs found; install one (Debian/Ubuntu:"
                       " sudo apt install fonts-noto-cjk)")
        return None
    from PySide6.QtWidgets import QApplication

    app = app if app is not None else QApplication.instance()
    font = app.font()
    families = [name for name in font.families() or [font.family()] if name != family]
    font.setFamilies([*families, family])
    app.setFont(font)
    return family


def set_up_language(store=None, override=None, app=None):
    """Choose the language (``override``, the choice saved in ``store``, by default the
    application's QSettings, or the system's), install its translators and font; returns
    the language."""
    if store is None:
        from PySide6.QtCore import QSettings

        store = QSettings()
    language = chosen_language(store, override)
    install_translators(language, app)
    use_font_for(language, app)
    return language
