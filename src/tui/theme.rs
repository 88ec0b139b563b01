//! Themes: every colour of the screen has a name, and a theme is a TOML file that gives
//! each name a colour.
//!
//! The four built-in themes are the files in `themes/`, compiled into the binary so the
//! monitor never depends on the source tree at run time. A user theme is a TOML file with
//! an optional `base = "<built-in>"` and a `[colors]` table; colours it leaves out come
//! from the base (dark by default), so a file that changes one colour is one line long.
//! A bad file is refused before the screen opens, with the file, line and what is wrong.

use std::ffi::OsStr;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::model::error::{line_of, read_input, InputError};
use crate::model::Status;

/// Declares the palette once: the struct, the file schema, the list of names and the merge.
macro_rules! palette {
    ($( $name:ident: $doc:literal ),* $(,)?) => {
        /// The colour of every named element of the screen.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Palette {
            $( #[doc = $doc] pub $name: Color, )*
        }

        /// The `[colors]` table of a theme file; each colour optional (the base fills in).
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ColorsFile {
            $( #[serde(default)] $name: Option<Spanned<String>>, )*
        }

        /// Every colour name with what it paints, in file order (for `--print-theme-colors`
        /// style listings and the error message about unknown names).
        pub const COLORS: &[(&str, &str)] = &[ $( (stringify!($name), $doc) ),* ];

        impl Palette {
            /// The colour of a named element.
            pub fn get(&self, name: &str) -> Option<Color> {
                match name {
                    $( stringify!($name) => Some(self.$name), )*
                    _ => None,
                }
            }
        }

        impl ColorsFile {
            /// Overwrites the base palette with the colours this file sets.
            fn apply(self, palette: &mut Palette, path: &Path, text: &str) -> Result<(), InputError> {
                $(
                    if let Some(value) = self.$name {
                        palette.$name = parse_color(stringify!($name), &value, path, text)?;
                    }
                )*
                Ok(())
            }

            /// Whether the file sets every colour (built-in themes must).
            fn missing(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $( if self.$name.is_none() { missing.push(stringify!($name)); } )*
                missing
            }
        }
    };
}

palette! {
    text: "ordinary text",
    background: "the screen's background (\"reset\" keeps the terminal's own)",
    pass: "pass lights (+)",
    warn: "warning lights (!)",
    fail: "failure lights (x)",
    skip: "skipped lights (-), checks that do not apply here",
    pending: "pending lights (?), before the first sweep ends",
    border: "pane borders",
    focus_border: "the border of the pane that has the keyboard focus",
    title: "pane titles and headings",
    header_fg: "text of the header bar",
    header_bg: "background of the header bar (\"reset\" shows it in reverse video)",
    selected_fg: "text of the selected row",
    selected_bg: "background of the selected row (\"reset\" shows it in reverse video)",
    dim: "secondary text and stages that did not run (.)",
    accent: "the sweeping indicator, key names and the status line",
    lab: "the LAB badge that marks simulated endpoints",
    marker: "user markers in the events log",
    command: "commands to copy in the remediation panel",
    link: "links to Microsoft documentation",
}

/// A theme file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    base: Option<Spanned<String>>,
    #[serde(default)]
    colors: ColorsFile,
}

/// Names and sources of the built-in themes, in the order `t` cycles through them.
const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];

const BUILTIN_NAMES: &[&str] = &["dark", "light", "high-contrast", "monochrome"];

/// The colour names a theme file may use, besides `#rrggbb`.
const ANSI_NAMES: &[(&str, Color)] = &[
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

/// A named set of colours, with the styles the screen is drawn with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The built-in name, or the file's `name` (its file stem when it has none).
    pub name: String,
    pub palette: Palette,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").expect("dark is built in")
    }
}

impl Theme {
    /// A built-in theme by name, or a theme file by path. Names are tried first, so a
    /// file called `dark` in the current directory needs `./dark` to be read.
    pub fn resolve(name_or_file: &str) -> Result<Theme, InputError> {
        if let Some(theme) = Theme::builtin(name_or_file) {
            return Ok(theme);
        }
        let path = Path::new(name_or_file);
        let looks_like_file = name_or_file.contains(['/', '\\', '.']) || path.exists();
        if !looks_like_file {
            return Err(InputError::plain(format!(
                "unknown theme \"{name_or_file}\": use one of {} or the path of a theme file (.toml)",
                BUILTIN_NAMES.join(", ")
            )));
        }
        let text = read_input(path)?;
        Theme::parse(path, &text)
    }

    /// The theme for the command line's `--theme` (if given) and the `NO_COLOR` variable:
    /// an explicit `--theme` wins (as no-color.org asks), otherwise a non-empty `NO_COLOR`
    /// means monochrome, otherwise dark.
    pub fn choose(flag: Option<&str>, no_color: Option<&OsStr>) -> Result<Theme, InputError> {
        match flag {
            Some(name) => Theme::resolve(name),
            None if no_color.is_some_and(|v| !v.is_empty()) => Ok(Theme::monochrome()),
            None => Ok(Theme::default()),
        }
    }

    /// [`Theme::choose`] with the process's `NO_COLOR`.
    pub fn from_cli(flag: Option<&str>) -> Result<Theme, InputError> {
        Theme::choose(flag, std::env::var_os("NO_COLOR").as_deref())
    }

    /// The names `--theme` accepts besides a file, in cycling order.
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// No colour at all: shapes, bold and reverse video only.
    pub fn monochrome() -> Theme {
        Theme::builtin("monochrome").expect("monochrome is built in")
    }

    /// Every built-in theme, in cycling order.
    pub fn builtins() -> Vec<Theme> {
        BUILTIN_NAMES.iter().filter_map(|n| Theme::builtin(n)).collect()
    }

    /// A built-in theme; `None` for any other name.
    fn builtin(name: &str) -> Option<Theme> {
        let (name, text) = BUILTIN.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        let path = Path::new("themes").join(format!("{name}.toml"));
        // The built-in files are complete and valid (tested), so this cannot fail at run time.
        Theme::parse_complete(&path, text).ok()
    }

    /// A built-in theme file: must set every colour, has no base.
    fn parse_complete(path: &Path, text: &str) -> Result<Theme, InputError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
        let missing = file.colors.missing();
        if !missing.is_empty() {
            return Err(InputError::file(
                path,
                format!("missing colours: {}", missing.join(", ")),
            ));
        }
        let mut palette = Palette::blank();
        let name = file.name.unwrap_or_else(|| stem(path));
        file.colors.apply(&mut palette, path, text)?;
        Ok(Theme { name, palette })
    }

    /// A user's theme file: colours it leaves out come from its base (dark by default).
    pub fn parse(path: &Path, text: &str) -> Result<Theme, InputError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
        let mut palette = match &file.base {
            None => Theme::default().palette,
            Some(base) => match Theme::builtin(base.get_ref()) {
                Some(theme) => theme.palette,
                None => {
                    return Err(InputError::at(
                        path,
                        line_of(text, base.span().start),
                        format!(
                            "unknown base theme \"{}\": use one of {}",
                            base.get_ref(),
                            BUILTIN_NAMES.join(", ")
                        ),
                    ))
                }
            },
        };
        let name = file.name.unwrap_or_else(|| stem(path));
        file.colors.apply(&mut palette, path, text)?;
        Ok(Theme { name, palette })
    }

    // ---- styles the screen is drawn with -------------------------------------------

    /// Ordinary text on the theme's background.
    pub fn text(&self) -> Style {
        Style::new().fg(self.palette.text).bg(self.palette.background)
    }

    /// The colour and weight of a light; failures and warnings are bold so they stand
    /// out without colour too.
    pub fn status(&self, status: Status) -> Style {
        let p = &self.palette;
        match status {
            Status::Pass => Style::new().fg(p.pass),
            Status::Warn => Style::new().fg(p.warn).add_modifier(Modifier::BOLD),
            Status::Fail => Style::new().fg(p.fail).add_modifier(Modifier::BOLD),
            Status::Skip => self.colour_or_dim(p.skip),
        }
    }

    pub fn pending(&self) -> Style {
        Style::new().fg(self.palette.pending)
    }

    /// Secondary text; without colour it is drawn dim instead.
    pub fn dim(&self) -> Style {
        self.colour_or_dim(self.palette.dim)
    }

    fn colour_or_dim(&self, colour: Color) -> Style {
        if colour == Color::Reset {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(colour)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::new()
                .fg(self.palette.focus_border)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(self.palette.border)
        }
    }

    pub fn title(&self) -> Style {
        Style::new().fg(self.palette.title).add_modifier(Modifier::BOLD)
    }

    /// The header bar; reverse video when the theme gives it no background.
    pub fn header(&self) -> Style {
        let p = &self.palette;
        if p.header_bg == Color::Reset {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(p.header_fg).bg(p.header_bg)
        }
    }

    /// The selected row; reverse video when the theme gives it no background.
    pub fn selected(&self) -> Style {
        let p = &self.palette;
        if p.selected_bg == Color::Reset {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(p.selected_fg).bg(p.selected_bg)
        }
    }

    pub fn accent(&self) -> Style {
        Style::new().fg(self.palette.accent)
    }

    /// Key names in the footer and help.
    pub fn key(&self) -> Style {
        Style::new().fg(self.palette.accent).add_modifier(Modifier::BOLD)
    }

    /// The LAB badge: reverse video in every theme, so nobody mistakes the lab for the
    /// real service.
    pub fn lab(&self) -> Style {
        Style::new()
            .fg(self.palette.lab)
            .add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn marker(&self) -> Style {
        Style::new().fg(self.palette.marker).add_modifier(Modifier::BOLD)
    }

    pub fn command(&self) -> Style {
        Style::new().fg(self.palette.command)
    }

    pub fn link(&self) -> Style {
        Style::new()
            .fg(self.palette.link)
            .add_modifier(Modifier::UNDERLINED)
    }
}

impl Palette {
    /// Every colour the terminal's default; only a starting point for complete files.
    fn blank() -> Palette {
        let c = Color::Reset;
        Palette {
            text: c,
            background: c,
            pass: c,
            warn: c,
            fail: c,
            skip: c,
            pending: c,
            border: c,
            focus_border: c,
            title: c,
            header_fg: c,
            header_bg: c,
            selected_fg: c,
            selected_bg: c,
            dim: c,
            accent: c,
            lab: c,
            marker: c,
            command: c,
            link: c,
        }
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("custom")
        .to_string()
}

/// An ANSI colour name (case, `-`, `_` and spaces ignored) or `#rrggbb`.
pub fn color_from_str(value: &str) -> Option<Color> {
    let normal: String = value
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if let Some((_, c)) = ANSI_NAMES.iter().find(|(n, _)| *n == normal) {
        return Some(*c);
    }
    let hex = value.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

fn parse_color(name: &str, value: &Spanned<String>, path: &Path, text: &str) -> Result<Color, InputError> {
    color_from_str(value.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = ANSI_NAMES.iter().map(|(n, _)| *n).collect();
        InputError::at(
            path,
            line_of(text, value.span().start),
            format!(
                "bad colour \"{}\" for \"{name}\": use #rrggbb or one of {}",
                value.get_ref(),
                names.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/invalid_themes")
            .join(name)
    }

    fn load_fixture(name: &str) -> InputError {
        let path = fixture(name);
        Theme::resolve(path.to_str().unwrap()).expect_err(name)
    }

    #[test]
    fn every_builtin_is_complete_and_named_after_itself() {
        for (name, text) in BUILTIN {
            let theme = Theme::parse_complete(Path::new(name), text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(theme.name, *name);
        }
        assert_eq!(Theme::builtins().len(), BUILTIN_NAMES.len());
        assert_eq!(
            Theme::builtin_names(),
            BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().as_slice()
        );
    }

    #[test]
    fn builtins_use_only_ansi_names_so_16_colour_terminals_work() {
        for theme in Theme::builtins() {
            for (name, _) in COLORS {
                let c = theme.palette.get(name).unwrap();
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{}: {name} is {c:?}",
                    theme.name
                );
            }
        }
    }

    #[test]
    fn monochrome_has_no_colour_and_marks_selection_by_reverse_video() {
        let m = Theme::monochrome();
        for (name, _) in COLORS {
            assert_eq!(m.palette.get(name), Some(Color::Reset), "{name}");
        }
        assert!(m.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(m.header().add_modifier.contains(Modifier::REVERSED));
        assert!(m.status(Status::Fail).add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn resolve_takes_names_case_insensitively_and_refuses_unknown_names() {
        assert_eq!(Theme::resolve("Light").unwrap().name, "light");
        assert_eq!(
            Theme::resolve("high-contrast").unwrap().palette.background,
            Color::Black
        );
        let e = Theme::resolve("solarized").unwrap_err();
        assert!(e.message.contains("unknown theme \"solarized\""), "{e}");
        assert!(
            e.message.contains("dark, light, high-contrast, monochrome"),
            "{e}"
        );
    }

    #[test]
    fn no_color_means_monochrome_unless_a_theme_is_named() {
        let set = Some(OsStr::new("1"));
        assert_eq!(Theme::choose(None, set).unwrap().name, "monochrome");
        assert_eq!(Theme::choose(None, Some(OsStr::new(""))).unwrap().name, "dark");
        assert_eq!(Theme::choose(None, None).unwrap().name, "dark");
        assert_eq!(Theme::choose(Some("light"), set).unwrap().name, "light");
    }

    #[test]
    fn a_partial_file_takes_the_rest_from_its_base() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "base = \"light\"\n[colors]\nfail = \"#ff0000\"\n").unwrap();
        let theme = Theme::resolve(path.to_str().unwrap()).unwrap();
        assert_eq!(theme.name, "mine");
        assert_eq!(theme.palette.fail, Color::Rgb(255, 0, 0));
        assert_eq!(theme.palette.pass, Theme::resolve("light").unwrap().palette.pass);
    }

    #[test]
    fn colour_values_accept_names_loosely_and_hex_strictly() {
        assert_eq!(color_from_str("Light-Red"), Some(Color::LightRed));
        assert_eq!(color_from_str("dark_gray"), Some(Color::DarkGray));
        assert_eq!(color_from_str("#0a0B0c"), Some(Color::Rgb(10, 11, 12)));
        assert_eq!(color_from_str("#0a0b0"), None);
        assert_eq!(color_from_str("#0a0b0g"), None);
        assert_eq!(color_from_str("9"), None);
        assert_eq!(color_from_str("orange"), None);
    }

    #[test]
    fn invalid_unknown_colour_name_names_file_line_and_key() {
        let e = load_fixture("unknown-key.toml");
        assert!(e.file.as_ref().unwrap().ends_with("unknown-key.toml"));
        assert_eq!(e.line, Some(6), "{e}");
        assert!(e.message.contains("sucess"), "{e}");
    }

    #[test]
    fn invalid_bad_colour_value_names_line_colour_and_choices() {
        let e = load_fixture("bad-colour.toml");
        assert_eq!(e.line, Some(6), "{e}");
        assert!(e.message.contains("bad colour \"#ff00\" for \"fail\""), "{e}");
        assert!(e.message.contains("lightred"), "{e}");
    }

    #[test]
    fn invalid_syntax_names_the_line() {
        let e = load_fixture("syntax.toml");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(!e.message.is_empty());
    }

    #[test]
    fn invalid_unknown_base_names_line_and_choices() {
        let e = load_fixture("unknown-base.toml");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("unknown base theme \"solarized\""), "{e}");
    }

    #[test]
    fn invalid_number_for_colour_names_the_line() {
        let e = load_fixture("wrong-type.toml");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("string"), "{e}");
    }

    #[test]
    fn invalid_top_level_key_names_line_and_key() {
        let e = load_fixture("unknown-top-key.toml");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("pass"), "{e}");
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let e = Theme::resolve("/nonexistent/theme.toml").unwrap_err();
        assert_eq!(e.to_string(), "/nonexistent/theme.toml: file not found");
    }
}
