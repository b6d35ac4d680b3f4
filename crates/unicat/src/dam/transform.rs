//! [`Transform`]: the options of a DAM transform (size, crop, padding, type, quality, …),
//! clamped, ordered and keyed as the official package does.

/// How a transform resizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resize {
    /// To a width (height follows).
    Width,
    /// To a height (width follows).
    Height,
    /// Inside the box.
    Fit,
    /// Covering the box.
    Fill,
}

impl Resize {
    fn name(self) -> &'static str {
        match self {
            Resize::Width => "width",
            Resize::Height => "height",
            Resize::Fit => "fit",
            Resize::Fill => "fill",
        }
    }
}

/// One side of a transform's padding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Padding {
    /// Chosen by the server.
    Auto,
    /// Pixels, 0..=1000.
    Pixels(f64),
}

/// DAM transform options, validated and clamped as the official package's `UnicatTransform`:
/// width/height 1..=5000, `resize` width|height|fit|fill (anything else is `width`), `type`
/// jpg|png|gif (anything else is `jpg`), hotspot and crop fractions 0..=1 (a crop sets a
/// centred hotspot when none is set; a crop below 0.00001 is dropped), padding 0..=1000 or
/// `auto`, quality 0..=100, background white|transparent|6 hex digits (anything else leaves it
/// unchanged), device pixel ratio 1..=4.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transform {
    name: Option<String>,
    key: Option<String>,
    force: Option<bool>,
    optimize: Option<bool>,
    resize: Option<Resize>,
    width: Option<u32>,
    height: Option<u32>,
    image_type: Option<&'static str>,
    hotspot: Option<(f64, f64)>,
    crop: Option<(f64, f64)>,
    padding: Option<[Padding; 4]>,
    quality: Option<u32>,
    background: Option<String>,
    dpr: Option<u32>,
}

fn clamp_round(value: f64, low: u32, high: u32) -> u32 {
    if value.is_nan() {
        return low;
    }
    value.round().clamp(f64::from(low), f64::from(high)) as u32
}

fn fraction(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

impl Transform {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The name of the transformed file.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The cache key (default: a hash of the other options).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Regenerate even when cached.
    #[must_use]
    pub fn force(mut self, force: bool) -> Self {
        self.force = Some(force);
        self
    }

    /// Optimize the output.
    #[must_use]
    pub fn optimize(mut self, optimize: bool) -> Self {
        self.optimize = Some(optimize);
        self
    }

    /// The resize mode by name; an unknown name means `width`.
    #[must_use]
    pub fn resize_named(self, resize: &str) -> Self {
        let mode = match resize {
            "height" => Resize::Height,
            "fit" => Resize::Fit,
            "fill" => Resize::Fill,
            _ => Resize::Width,
        };
        self.resize(mode)
    }

    /// The resize mode; re-validates width and height for it.
    #[must_use]
    pub fn resize(mut self, resize: Resize) -> Self {
        self.resize = Some(resize);
        let (w, h) = (self.width, self.height);
        self.set_width(w.map(f64::from));
        self.set_height(h.map(f64::from));
        self
    }

    /// The width (clamped to 1..=5000; none means 1, or unset when resizing by height).
    #[must_use]
    pub fn width(mut self, width: f64) -> Self {
        self.set_width(Some(width));
        self
    }

    /// The height (clamped to 1..=5000; none means 1, or unset when resizing by width).
    #[must_use]
    pub fn height(mut self, height: f64) -> Self {
        self.set_height(Some(height));
        self
    }

    fn set_width(&mut self, width: Option<f64>) {
        self.width = match width.filter(|w| *w != 0.0) {
            None if self.resize == Some(Resize::Height) => None,
            None => Some(1),
            Some(w) => Some(clamp_round(w, 1, 5000)),
        };
    }

    fn set_height(&mut self, height: Option<f64>) {
        self.height = match height.filter(|h| *h != 0.0) {
            None if self.resize == Some(Resize::Width) => None,
            None => Some(1),
            Some(h) => Some(clamp_round(h, 1, 5000)),
        };
    }

    /// The output type: jpg, png or gif (anything else is jpg).
    #[must_use]
    pub fn image_type(mut self, image_type: &str) -> Self {
        self.image_type = Some(match image_type {
            "png" => "png",
            "gif" => "gif",
            _ => "jpg",
        });
        self
    }

    /// The hotspot, as fractions clamped to 0..=1.
    #[must_use]
    pub fn hotspot(mut self, x: f64, y: f64) -> Self {
        self.hotspot = Some((fraction(x), fraction(y)));
        self
    }

    /// The crop, as fractions clamped to 0..=1; sets a centred hotspot when none is set.
    #[must_use]
    pub fn crop(mut self, w: f64, h: f64) -> Self {
        let (w, h) = (fraction(w), fraction(h));
        if w < 0.00001 || h < 0.00001 {
            self.crop = None;
        } else {
            self.crop = Some((w, h));
            if self.hotspot.is_none() {
                self.hotspot = Some((0.5, 0.5));
            }
        }
        self
    }

    /// The padding (top, right, bottom, left), each clamped to 0..=1000 or `auto`.
    #[must_use]
    pub fn padding(mut self, top: Padding, right: Padding, bottom: Padding, left: Padding) -> Self {
        let clamp = |p: Padding| match p {
            Padding::Auto => Padding::Auto,
            Padding::Pixels(v) if v.is_nan() => Padding::Pixels(0.0),
            Padding::Pixels(v) => Padding::Pixels(v.clamp(0.0, 1000.0)),
        };
        self.padding = Some([clamp(top), clamp(right), clamp(bottom), clamp(left)]);
        self
    }

    /// The quality, rounded and clamped to 0..=100.
    #[must_use]
    pub fn quality(mut self, quality: f64) -> Self {
        self.quality = Some(clamp_round(quality, 0, 100));
        self
    }

    /// The background: `white`, `transparent` or six hex digits (with or without `#`);
    /// anything else leaves the background as it was.
    #[must_use]
    pub fn background(mut self, background: &str) -> Self {
        if matches!(background, "white" | "transparent") {
            self.background = Some(background.to_owned());
        } else {
            let hex = background.strip_prefix('#').unwrap_or(background);
            if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.background = Some(hex.to_owned());
            }
        }
        self
    }

    /// The device pixel ratio, rounded and clamped to 1..=4.
    #[must_use]
    pub fn dpr(mut self, dpr: f64) -> Self {
        self.dpr = Some(clamp_round(dpr, 1, 4));
        self
    }

    /// The options as the DAM takes them, in a fixed order (so a URL never depends on the order
    /// options were set), the `key` included: given, or the official package's hash of the
    /// other options.
    pub fn options(&self) -> Vec<(String, String)> {
        let mut options: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| options.push((k.to_owned(), v));
        if let Some(name) = &self.name {
            push("name", name.clone());
        }
        if let Some(t) = self.image_type {
            push("type", t.to_owned());
        }
        if let Some(f) = self.force {
            push("force", f.to_string());
        }
        if let Some(o) = self.optimize {
            push("optimize", o.to_string());
        }
        if let Some(resize) = self.resize {
            let w = self
                .width
                .map(|w| w.to_string())
                .unwrap_or_else(|| "None".to_owned());
            let h = self
                .height
                .map(|h| h.to_string())
                .unwrap_or_else(|| "None".to_owned());
            let value = match (resize, self.width, self.height) {
                (Resize::Width, Some(w), None) => w.to_string(),
                (Resize::Height, None, Some(h)) => h.to_string(),
                _ => format!("{w},{h}"),
            };
            push(resize.name(), value);
        }
        if let Some((x, y)) = self.hotspot {
            push("hs", format!("{x:.5},{y:.5}"));
        }
        if let Some((w, h)) = self.crop {
            push("crop", format!("{w:.5},{h:.5}"));
        }
        if let Some(padding) = self.padding {
            let side = |p: Padding| match p {
                Padding::Auto => "auto".to_owned(),
                Padding::Pixels(v) if v.fract() == 0.0 => format!("{}", v as i64),
                Padding::Pixels(v) => format!("{v}"),
            };
            push("padding", padding.map(side).join(","));
        }
        if let Some(bg) = &self.background {
            push("bg", bg.clone());
        }
        if let Some(q) = self.quality {
            push("q", q.to_string());
        }
        if let Some(dpr) = self.dpr {
            push("dpr", dpr.to_string());
        }
        let key = self.key.clone().unwrap_or_else(|| hash_options(&options));
        options.insert(usize::from(self.name.is_some()), ("key".to_owned(), key));
        options
    }
}

/// The official package's `hash_data`: a 31-multiplier string hash of the options' JSON with
/// sorted keys, as 8 hex digits.
fn hash_options(options: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = options.iter().collect();
    sorted.sort();
    let text = format!(
        "{{{}}}",
        sorted
            .iter()
            .map(|(k, v)| format!("{}: {}", python_json_string(k), python_json_string(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut hash: u32 = 0;
    for unit in text.chars() {
        hash = hash.wrapping_mul(31).wrapping_add(unit as u32);
    }
    let signed = hash as i32;
    // Python's hex() of a negative number keeps its sign ("-0x…"); the package then keeps the
    // last 8 characters of "00000000" + hex(h)[2:]. Reproduced so keys match its cache keys.
    let shown = if signed < 0 {
        format!("x{:x}", -i64::from(signed))
    } else {
        format!("{signed:x}")
    };
    let padded = format!("00000000{shown}");
    padded[padded.len() - 8..].to_owned()
}

/// `json.dumps` of a string (ASCII only, `\uXXXX` escapes).
fn python_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_options_are_clamped_ordered_and_keyed() {
        let t = Transform::new()
            .dpr(9.0)
            .quality(150.0)
            .resize_named("bogus")
            .width(9000.0)
            .image_type("bmp")
            .crop(2.0, 0.5)
            .background("#A0B1C2")
            .padding(
                Padding::Auto,
                Padding::Pixels(-3.0),
                Padding::Pixels(2000.0),
                Padding::Pixels(5.0),
            );
        let options = t.options();
        let keys: Vec<&str> = options.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "key", "type", "width", "hs", "crop", "padding", "bg", "q", "dpr"
            ]
        );
        let get = |k: &str| {
            options
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("width"), Some("5000"));
        assert_eq!(get("type"), Some("jpg"));
        assert_eq!(get("hs"), Some("0.50000,0.50000"));
        assert_eq!(get("crop"), Some("1.00000,0.50000"));
        assert_eq!(get("padding"), Some("auto,0,1000,5"));
        assert_eq!(get("bg"), Some("A0B1C2"));
        assert_eq!(get("q"), Some("100"));
        assert_eq!(get("dpr"), Some("4"));
        assert_eq!(get("key").map(str::len), Some(8));
        // The same options set in another order give the same key.
        let again = Transform::new()
            .padding(
                Padding::Auto,
                Padding::Pixels(0.0),
                Padding::Pixels(1000.0),
                Padding::Pixels(5.0),
            )
            .background("a0b1c2".to_uppercase().as_str())
            .crop(1.0, 0.5)
            .image_type("jpg")
            .resize(Resize::Width)
            .width(5000.0)
            .quality(100.0)
            .dpr(4.0);
        assert_eq!(again.options(), options);
        assert_eq!(Transform::new().background("red").options().len(), 1);
    }

    #[test]
    fn hash_matches_the_official_package() {
        // hash_text('{"q": "80"}') computed with the official package's algorithm.
        let mut h: i64 = 0;
        for c in "{\"q\": \"80\"}".chars() {
            h = (31 * h + c as i64) & 0xFFFF_FFFF;
        }
        let signed = ((h + 0x8000_0000) & 0xFFFF_FFFF) - 0x8000_0000;
        assert!(signed >= 0);
        assert_eq!(
            hash_options(&[("q".to_owned(), "80".to_owned())]),
            format!("{signed:08x}")
        );
    }
}
