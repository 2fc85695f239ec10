//! Context extraction: the value a secret-sounding name is given, in the assignment and
//! name/value-pair forms of many languages and formats.
//!
//! A rule with `extract = "assignment"` or `extract = "pair"` has a regex that finds the
//! *name* only; this module finds the value that goes with it, and the engine then judges
//! that value like any captured secret (entropy, validator, allowlists). Keeping the
//! shapes here, not in one regex per language, lets one rule read
//! - typed declarations: `const X: string = "v"` (TypeScript), `const X: &str = "v"` and
//!   `String::from("v")` (Rust), `var x string = "v"` (Go), `val x: String = "v"`
//!   (Kotlin, Scala), `let x: String = "v"` (Swift), `Dim x As String = "v"` (VB);
//! - C and C++: `#define X "v"`, `static const char x[] = "v"`;
//! - operators of every kind: `=`, `:=`, `?=`, `+=`, `::=`, `=>`, `<-`, `:`;
//! - calls and literals: `setPassword("v")`, `.apiKey("v")`, `config.set("password", "v")`,
//!   `{"password", "v"}`, `@"v"` (Objective-C), `r#"v"#`, `b"v"`, triple quotes;
//! - (`pair`) a name held in one field and its value in the next: Kubernetes and Compose
//!   env lists (`- name: X` / `value: v`), ECS and other JSON `{"name": "X", "value": "v"}`
//!   in either order, XML `<name>X</name><value>v</value>`, plist
//!   `<key>X</key><string>v</string>`, `<entry key="X">v</entry>`,
//!   `<property name="X" value="v"/>`, Terraform `variable "x" { default = "v" }`.
//!
//! Extraction only reads `hay`; it reaches at most [`PAIR_REACH`] bytes from the name, far
//! less than the overlap between chunks, so a chunked scan finds what a whole scan finds.

/// How far (bytes) a pair's value may sit from its name.
pub const PAIR_REACH: usize = 400;
/// The longest value read.
const MAX_VALUE: usize = 300;

/// Which shape a rule's name is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The name is assigned, declared, passed or mapped to the value that follows it.
    Assignment,
    /// The name is the value of a naming field; the value sits in a sibling field.
    Pair,
}

impl Mode {
    /// Every mode name accepted in rule files.
    pub const NAMES: &'static [&'static str] = &["assignment", "pair"];

    /// Looks a mode up by its rule-file name.
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "assignment" => Some(Mode::Assignment),
            "pair" => Some(Mode::Pair),
            _ => None,
        }
    }
}

/// The value found for a name, as a byte range of the scanned slice.
pub fn extract(hay: &[u8], name: (usize, usize), mode: Mode) -> Option<(usize, usize)> {
    let (ns, ne) = name;
    if ns >= ne || ne > hay.len() {
        return None;
    }
    let v = match mode {
        Mode::Assignment => assignment(hay, ns, ne),
        Mode::Pair => pair(hay, ns, ne),
    }?;
    (v.0 < v.1 && v.1 - v.0 <= MAX_VALUE).then_some(v)
}

/// How far a line is looked at around a name, each way: enough for a declaration's
/// keywords and a value, and it keeps the work per name constant on one-line files
/// (minified code, a flood of keywords) where the whole line would make it quadratic.
const LINE_REACH: usize = 1024;

fn line_start(hay: &[u8], i: usize) -> usize {
    let lo = i.saturating_sub(LINE_REACH);
    memchr::memrchr(b'\n', &hay[lo..i]).map_or(lo, |p| lo + p + 1)
}

fn line_end(hay: &[u8], i: usize) -> usize {
    let hi = (i + LINE_REACH).min(hay.len());
    memchr::memchr(b'\n', &hay[i..hi]).map_or(hi, |p| i + p)
}

fn skip_blank(hay: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(hay[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    i
}

fn at(hay: &[u8], i: usize) -> u8 {
    hay.get(i).copied().unwrap_or(0)
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn assignment(hay: &[u8], ns: usize, ne: usize) -> Option<(usize, usize)> {
    let ls = line_start(hay, ns);
    let le = line_end(hay, ne);
    let prefix = &hay[ls..ns];
    let opener = if ns > 0 { hay[ns - 1] } else { 0 };
    // A URL query parameter (`?token=...&key=...`) is no assignment: the query-string
    // rules judge those.
    if opener == b'?' || (opener == b'&' && at(hay, ne) == b'=') {
        return None;
    }
    let quoted = is_quote(opener) && at(hay, ne) == opener;
    let mut p = if quoted { ne + 1 } else { ne };
    // An index by a quoted key: `config["SmtpPass"] = ...`, `ENV['X'] ||= ...`.
    if quoted && at(hay, p) == b']' {
        p += 1;
    }
    // C arrays: `char api_key[] = "..."`, `char key[33] = "..."`.
    if at(hay, p) == b'[' {
        let close = hay[p..le].iter().position(|&b| b == b']')?;
        if !hay[p + 1..p + close].iter().all(u8::is_ascii_digit) {
            return None;
        }
        p += close + 1;
    }
    p = skip_blank(hay, p, le);
    // C# auto-properties: `string ClientSecret { get; set; } = "..."`.
    if at(hay, p) == b'{' {
        let close = hay[p..le].iter().position(|&b| b == b'}')?;
        let accessors = &hay[p + 1..p + close];
        let words_ok = accessors
            .split(|b| matches!(b, b';' | b' ' | b'\t'))
            .filter(|w| !w.is_empty())
            .all(|w| {
                [
                    &b"get"[..],
                    b"set",
                    b"init",
                    b"private",
                    b"protected",
                    b"internal",
                ]
                .contains(&w)
            });
        if !words_ok || !has_word(accessors, b"get") {
            return None;
        }
        p = skip_blank(hay, p + close + 1, le);
    }
    // `#define API_KEY "..."`.
    if trimmed_ends_with_word(prefix, b"define") && prefix.trim_ascii_start().starts_with(b"#") {
        return value(hay, p, le, true);
    }
    // Setters and builder calls: `setPassword("...")`, `.withApiKey('...')`,
    // `.password("...")`.
    if at(hay, p) == b'(' && !quoted {
        if !setter_name(&hay[ns..ne], opener) && !constructed(prefix) {
            return None;
        }
        let q = skip_blank(hay, p + 1, le);
        let v = value(hay, q, le, false)?;
        let after = skip_blank(hay, v.1 + 1, le);
        return matches!(at(hay, after), b')' | b',').then_some(v);
    }
    let (op_end, unquoted_ok) = operator(hay, p, le, quoted, prefix)?;
    let q = skip_blank(hay, op_end, le);
    value(hay, q, le, unquoted_ok)
}

fn trimmed_ends_with_word(prefix: &[u8], word: &[u8]) -> bool {
    let t = prefix.trim_ascii_end();
    t.len() >= word.len()
        && t[t.len() - word.len()..].eq_ignore_ascii_case(word)
        && (t.len() == word.len() || !is_ident(t[t.len() - word.len() - 1]))
}

/// `setPassword`, `withApiKey`, `putSecret` or a bare property setter after a dot
/// (`.password(`); not `getPassword(`, `checkPassword(`, `hashToken(`.
fn setter_name(name: &[u8], opener: u8) -> bool {
    // `ds.setPassword`: the method is the last segment, called on an object.
    let (name, opener) = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) => (&name[dot + 1..], b'.'),
        None => (name, opener),
    };
    let lower = name.to_ascii_lowercase();
    for verb in [&b"set"[..], b"with", b"put", b"use"] {
        if lower.starts_with(verb) && name.len() > verb.len() {
            let next = name[verb.len()];
            if next.is_ascii_uppercase() || next == b'_' {
                return true;
            }
        }
    }
    const STEMS: &[&[u8]] = &[
        b"pass",
        b"pwd",
        b"secret",
        b"token",
        b"api",
        b"access",
        b"auth",
        b"private",
        b"client",
        b"credential",
    ];
    opener == b'.' && STEMS.iter().any(|s| lower.starts_with(s))
}

/// C++ direct initialisation `std::string api_key("...")`: the name follows a type,
/// not a keyword such as `return` or `if`.
fn constructed(prefix: &[u8]) -> bool {
    let t = prefix.trim_ascii_end();
    let mut s = t.len();
    while s > 0 && is_ident(t[s - 1]) {
        s -= 1;
    }
    let word = &t[s..];
    const NOT_TYPES: &[&[u8]] = &[
        b"return",
        b"if",
        b"while",
        b"await",
        b"throw",
        b"new",
        b"not",
        b"and",
        b"or",
        b"else",
        b"case",
        b"yield",
        b"in",
        b"is",
        b"def",
        b"fn",
        b"func",
        b"function",
        b"void",
        b"bool",
        b"assert",
        b"echo",
        b"print",
    ];
    let typed = !word.is_empty() && word[0].is_ascii_alphabetic() || t.ends_with(b">");
    typed && !NOT_TYPES.iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// The operator after a name at `p`: its end, and whether an unquoted value may follow.
fn operator(hay: &[u8], p: usize, le: usize, quoted: bool, prefix: &[u8]) -> Option<(usize, bool)> {
    let rest = &hay[p..le];
    for op in [&b"::="[..], b"||=", b":=", b"?=", b"+=", b"=>", b"<-"] {
        if rest.starts_with(op) {
            return Some((p + op.len(), op != b"=>" && op != b"<-"));
        }
    }
    if rest.starts_with(b"=") && !rest.starts_with(b"==") {
        return Some((p + 1, true));
    }
    if rest.starts_with(b":") && !rest.starts_with(b"::") {
        // A type annotation `: string =`, `: &'static str =`, `: Option<String> =`.
        if let Some(end) = typed(hay, p + 1, le) {
            return Some((end, false));
        }
        return Some((p + 1, true));
    }
    if rest.starts_with(b",") {
        // A map entry or an argument list: `{"password", "..."}`, `set("token", "...")`,
        // `{password, "..."}` (Erlang), `:password, "..."`.
        let t = prefix.trim_ascii_end();
        let t = t.strip_suffix(b":").unwrap_or(t);
        let opens = t.last().is_some_and(|b| matches!(b, b'{' | b'(' | b'['));
        return (quoted || opens).then_some((p + 1, false));
    }
    // A type after the name: Go `var apiKey string = "..."`, VB `Dim pwd As String = "..."`.
    let decl = [&b"var"[..], b"dim", b"const", b"let", b"val"]
        .iter()
        .any(|k| has_word(prefix, k));
    if decl {
        let mut i = p;
        if rest.len() > 3 && rest[..3].eq_ignore_ascii_case(b"as ") {
            i = skip_blank(hay, p + 3, le);
        }
        let ts = i;
        while i < le && (is_ident(hay[i]) || matches!(hay[i], b'[' | b']' | b'*' | b'.')) {
            i += 1;
        }
        if i > ts {
            let j = skip_blank(hay, i, le);
            if at(hay, j) == b'=' && !matches!(at(hay, j + 1), b'=' | b'>') {
                return Some((j + 1, false));
            }
        }
    }
    None
}

fn has_word(text: &[u8], word: &[u8]) -> bool {
    text.windows(word.len()).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(word)
            && (i == 0 || !is_ident(text[i - 1]))
            && !text.get(i + word.len()).is_some_and(|&b| is_ident(b))
    })
}

/// After `:` at `p`: a type followed by `=`; returns the position after `=`.
fn typed(hay: &[u8], p: usize, le: usize) -> Option<usize> {
    let s = skip_blank(hay, p, le);
    let mut i = s;
    let limit = le.min(s + 60);
    while i < limit
        && (is_ident(hay[i])
            || matches!(hay[i], b'&' | b'\'' | b'<' | b'>' | b'[' | b']' | b'*')
            || matches!(hay[i], b'?' | b'.' | b',' | b' ' | b':'))
    {
        i += 1;
    }
    let ty = hay[s..i].trim_ascii();
    let first = *ty.first()?;
    if !(first.is_ascii_alphabetic() || first == b'&' || first == b'[' || first == b'*') {
        return None;
    }
    // The type is code, not a YAML value: no blank-separated words beyond `'a str`,
    // `mut T`, `const char`.
    if ty.split(|&b| b == b' ').filter(|w| !w.is_empty()).count() > 2 {
        return None;
    }
    (at(hay, i) == b'=' && !matches!(at(hay, i + 1), b'=' | b'>')).then_some(i + 1)
}

/// Conversion calls a literal may be wrapped in: `String::from("v")`, `str("v")`,
/// `SecretStr("v")`, `Some("v")`, `new String("v")`.
const WRAPPERS: &[&str] = &[
    "from",
    "new",
    "string",
    "str",
    "some",
    "ok",
    "secretstr",
    "secretstring",
    "secret",
    "sensitive",
    "securestring",
    "of",
    "valueof",
    "to_owned",
    "owned",
    "literal",
    "byte",
    "bytes",
    "bytearray",
];

/// The value at `q`: a string literal (optionally wrapped in a conversion call or with a
/// literal prefix) or, when `unquoted_ok`, a bare token up to the next blank.
fn value(hay: &[u8], mut q: usize, le: usize, unquoted_ok: bool) -> Option<(usize, usize)> {
    if hay[q..le].starts_with(b"new ") {
        q = skip_blank(hay, q + 4, le);
    }
    for _ in 0..2 {
        // Go conversions `[]byte("...")`.
        if hay[q..le].starts_with(b"[]") {
            q += 2;
        }
        let mut i = q;
        while i < le && (is_ident(hay[i]) || hay[i] == b':' || hay[i] == b'.') {
            i += 1;
        }
        if i > q && at(hay, i) == b'(' {
            let call = String::from_utf8_lossy(&hay[q..i]).to_ascii_lowercase();
            let last = call.rsplit([':', '.']).next().unwrap_or("");
            if !WRAPPERS.contains(&last) {
                return None;
            }
            q = skip_blank(hay, i + 1, le);
        } else {
            break;
        }
    }
    // Literal prefixes: `@"`, `$"`, `r"`, `b"`, `f"`, `u"`, `L"`, `u8"`, `r#"`.
    let mut hashes = 0;
    let mut i = q;
    while i < le
        && i < q + 3
        && matches!(
            hay[i],
            b'@' | b'$' | b'r' | b'b' | b'f' | b'u' | b'L' | b'8'
        )
    {
        i += 1;
    }
    while at(hay, i) == b'#' && i < le {
        hashes += 1;
        i += 1;
    }
    if i > q && is_quote(at(hay, i)) {
        q = i;
    } else {
        hashes = 0;
    }
    let quote = at(hay, q);
    if is_quote(quote) && q < le {
        let triple = hay[q..le].starts_with(&[quote; 3]);
        let s = if triple { q + 3 } else { q + 1 };
        let mut j = s;
        while j < le {
            let b = hay[j];
            if b == b'\\' && quote != b'\'' {
                j += 2;
                continue;
            }
            if b == quote {
                let closes = if triple {
                    hay[j..le].starts_with(&[quote; 3])
                } else {
                    hay[j + 1..le]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == b'#')
                        .count()
                        == hashes
                };
                if closes {
                    return Some((s, j));
                }
            }
            j += 1;
        }
        return None;
    }
    if !unquoted_ok {
        return None;
    }
    let mut j = q;
    while j < le && !matches!(hay[j], b' ' | b'\t' | b'\r' | b'"' | b'\'' | b'`') {
        j += 1;
    }
    while j > q && matches!(hay[j - 1], b';' | b',') {
        j -= 1;
    }
    // Bare values with brackets are code: a parameter's type (`Option<&str>`), a call.
    if hay[q..j]
        .iter()
        .any(|b| matches!(b, b'<' | b'>' | b'(' | b')' | b'{' | b'}'))
    {
        return None;
    }
    (j > q).then_some((q, j))
}

/// Field names that name a setting (`name: X`, `"key": "X"`, `name="X"`).
const NAME_FIELDS: &[&str] = &[
    "name",
    "key",
    "variable",
    "var",
    "env",
    "param",
    "parameter",
    "parametername",
    "parameterkey",
    "parameter_name",
    "parameter_key",
    "setting",
    "property",
    "field",
    "id",
];

/// Field names that hold the value of a named setting.
const VALUE_FIELDS: &[&str] = &[
    "value",
    "val",
    "default",
    "parametervalue",
    "parameter_value",
    "string",
    "data",
];

/// Is `name` one of `list`, or a compound ending in its first entry (`param-name`,
/// `env-entry-name`, `SettingKey`, `param-value`, `defaultValue`)?
fn field_is(name: &[u8], list: &[&str]) -> bool {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    list.contains(&lower.as_str())
        || list[..2].iter().any(|suffix| {
            let n = suffix.len();
            name.len() > n + 1 && lower.ends_with(suffix) && {
                let first = name[name.len() - n];
                let before = name[name.len() - n - 1];
                matches!(before, b'-' | b'_' | b'.')
                    || (first.is_ascii_uppercase() && before.is_ascii_lowercase())
            }
        })
}

fn pair(hay: &[u8], ns: usize, ne: usize) -> Option<(usize, usize)> {
    let ls = line_start(hay, ns);
    let opener = if ns > 0 { hay[ns - 1] } else { 0 };
    let quoted = is_quote(opener) && at(hay, ne) == opener;
    let before_name = if quoted { ns - 1 } else { ns };
    let after_name = if quoted { ne + 1 } else { ne };
    let pre = &hay[ls..before_name];
    let pre_t = pre.trim_ascii_end();
    // `<key>X</key>` and `<name>X</name>`: the next element holds the value.
    if let Some(tag) = open_tag_before(pre_t) {
        if !quoted && field_is(tag, NAME_FIELDS) {
            let close = [b"</", tag, b">"].concat();
            if hay[ne..].starts_with(&close) {
                return next_element(hay, ne + close.len());
            }
        }
        return None;
    }
    // Terraform: `variable "db_password" { default = "..." }`.
    if quoted && trimmed_ends_with_word(pre, b"variable") {
        return value_field_after(hay, after_name);
    }
    // `name: X`, `"name": "X"`, `name="X"` (an XML attribute or HCL).
    let op = *pre_t.last()?;
    if !matches!(op, b':' | b'=') {
        return None;
    }
    let field_end = pre_t.len() - 1;
    let field_raw = pre_t[..field_end].trim_ascii_end();
    let field_raw = field_raw
        .strip_suffix(b"\"")
        .or_else(|| field_raw.strip_suffix(b"'"))
        .unwrap_or(field_raw);
    let mut fs = field_raw.len();
    while fs > 0 && (is_ident(field_raw[fs - 1]) || field_raw[fs - 1] == b'-') {
        fs -= 1;
    }
    let field = &field_raw[fs..];
    if !field_is(field, NAME_FIELDS) {
        return None;
    }
    let field_start = ls + fs;
    // Inside an XML tag: `value="..."` in the same tag, or the element's text.
    if let Some(lt) = pre.iter().rposition(|&b| b == b'<') {
        if !pre[lt..].contains(&b'>') {
            let tag_end = hay[after_name..(after_name + PAIR_REACH).min(hay.len())]
                .iter()
                .position(|&b| b == b'>')
                .map(|p| after_name + p)?;
            let tag = (ls + lt, tag_end);
            if let Some(v) = attribute_value(hay, tag.0, tag.1) {
                return Some(v);
            }
            if at(hay, tag_end.saturating_sub(1)) != b'/' {
                let s = tag_end + 1;
                let e = hay[s..(s + MAX_VALUE).min(hay.len())]
                    .iter()
                    .position(|&b| b == b'<')
                    .map(|p| s + p)?;
                let (s, e) = trim_range(hay, s, e);
                return (e > s).then_some((s, e));
            }
            return None;
        }
    }
    if let Some(v) = value_field_after(hay, after_name) {
        return Some(v);
    }
    value_field_before(hay, field_start)
}

fn trim_range(hay: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && hay[s].is_ascii_whitespace() {
        s += 1;
    }
    while e > s && hay[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    (s, e)
}

/// The tag name when `pre` ends with an opening tag `<key>` or `<ns:name attr="...">`.
fn open_tag_before(pre: &[u8]) -> Option<&[u8]> {
    if pre.last() != Some(&b'>') || pre.ends_with(b"/>") {
        return None;
    }
    let lt = pre.iter().rposition(|&b| b == b'<')?;
    let inner = &pre[lt + 1..pre.len() - 1];
    if !inner.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = inner
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    Some(
        name.iter()
            .rposition(|&b| b == b':')
            .map_or(name, |c| &name[c + 1..]),
    )
}

/// The text of the element that follows `p` (after blanks and newlines), when its tag
/// is a value field: `<value>v</value>`, `<string>v</string>`.
fn next_element(hay: &[u8], p: usize) -> Option<(usize, usize)> {
    let reach = (p + PAIR_REACH).min(hay.len());
    let mut i = p;
    while i < reach && hay[i].is_ascii_whitespace() {
        i += 1;
    }
    if at(hay, i) != b'<' {
        return None;
    }
    let gt = hay[i..reach]
        .iter()
        .position(|&b| b == b'>')
        .map(|g| i + g)?;
    let tag = open_tag_before(&hay[i..=gt])?;
    if !field_is(tag, VALUE_FIELDS) {
        return None;
    }
    let s = gt + 1;
    let e = hay[s..(s + MAX_VALUE).min(hay.len())]
        .iter()
        .position(|&b| b == b'<')
        .map(|l| s + l)?;
    let (s, e) = trim_range(hay, s, e);
    (e > s).then_some((s, e))
}

/// `value="..."` inside the tag `[lt, gt)`.
fn attribute_value(hay: &[u8], lt: usize, gt: usize) -> Option<(usize, usize)> {
    let tag = &hay[lt..gt];
    let mut i = 0;
    while i < tag.len() {
        if tag[i] == b'=' {
            let mut fe = i;
            while fe > 0 && tag[fe - 1] == b' ' {
                fe -= 1;
            }
            let mut fs = fe;
            while fs > 0 && (is_ident(tag[fs - 1]) || tag[fs - 1] == b'-') {
                fs -= 1;
            }
            let mut q = i + 1;
            while q < tag.len() && tag[q] == b' ' {
                q += 1;
            }
            if field_is(&tag[fs..fe], VALUE_FIELDS) && q < tag.len() && is_quote(tag[q]) {
                let close = tag[q + 1..].iter().position(|&b| b == tag[q])?;
                return Some((lt + q + 1, lt + q + 1 + close));
            }
        }
        i += 1;
    }
    None
}

/// Finds `value: v` / `"value": "v"` / `default = "v"` in the lines after `p`, up to the
/// next naming field or the end of the enclosing object.
fn value_field_after(hay: &[u8], p: usize) -> Option<(usize, usize)> {
    let reach = (p + PAIR_REACH).min(hay.len());
    let mut i = p;
    while i < reach {
        let b = hay[i];
        if matches!(b, b'}' | b']') {
            return None;
        }
        if is_ident(b) && (i == 0 || !is_ident(hay[i - 1])) {
            let s = i;
            while i < reach && (is_ident(hay[i]) || hay[i] == b'-') {
                i += 1;
            }
            let word = &hay[s..i];
            let mut j = i;
            if is_quote(at(hay, j)) {
                j += 1;
            }
            let j = skip_blank(hay, j, reach);
            if matches!(at(hay, j), b':' | b'=') && at(hay, j + 1) != b'=' {
                if field_is(word, VALUE_FIELDS) {
                    let le = line_end(hay, j);
                    let q = skip_blank(hay, j + 1, le);
                    return field_value(hay, q, le);
                }
                if field_is(word, NAME_FIELDS) {
                    return None;
                }
            }
            continue;
        }
        i += 1;
    }
    None
}

/// Finds the value field before the naming field at `p`, within the same object: JSON
/// written `{"value": "v", "name": "X"}`.
fn value_field_before(hay: &[u8], p: usize) -> Option<(usize, usize)> {
    let lo = p.saturating_sub(PAIR_REACH);
    let region = &hay[lo..p];
    let open = region
        .iter()
        .rposition(|&b| matches!(b, b'{' | b'}' | b'[' | b']'))?;
    if region[open] != b'{' {
        return None;
    }
    let start = lo + open + 1;
    let found = value_field_after(hay, start)?;
    (found.1 <= p).then_some(found)
}

/// A field's value at `q`: quoted, or bare up to a delimiter.
fn field_value(hay: &[u8], q: usize, le: usize) -> Option<(usize, usize)> {
    if is_quote(at(hay, q)) {
        return value(hay, q, le, false);
    }
    let mut j = q;
    while j < le
        && !matches!(hay[j], b',' | b'}' | b'<' | b'\r')
        && !(hay[j] == b'#' && j > q && matches!(hay[j - 1], b' ' | b'\t'))
    {
        j += 1;
    }
    let (s, e) = trim_range(hay, q, j);
    (e > s).then_some((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extracts with the name located as the first occurrence of `name` in `text`.
    fn get(text: &str, name: &str, mode: Mode) -> Option<String> {
        let ns = text.find(name)?;
        extract(text.as_bytes(), (ns, ns + name.len()), mode).map(|(s, e)| text[s..e].to_string())
    }

    #[test]
    fn declarations_in_forms_not_in_rule_examples() {
        let v = "Mk7#pQ2vL9";
        for (text, name) in [
            (format!("export const DB_PASS: string = '{v}';"), "DB_PASS"),
            (
                format!("static API_TOKEN: &'static str = \"{v}\";"),
                "API_TOKEN",
            ),
            (
                format!("    private val apiToken: String? = \"{v}\""),
                "apiToken",
            ),
            (format!("let secretKey: String = \"{v}\""), "secretKey"),
            (format!("var apiToken string = `{v}`"), "apiToken"),
            (format!("Dim apiToken As String = \"{v}\""), "apiToken"),
            (format!("char apiToken[16] = \"{v}\";"), "apiToken"),
            (format!("#  define apiToken L\"{v}\""), "apiToken"),
            (format!("NSString *apiToken = @\"{v}\";"), "apiToken"),
            (format!("apiToken <- \"{v}\""), "apiToken"),
            (format!("apiToken ::= \"{v}\""), "apiToken"),
            (
                format!("let apiToken = SecretString::new(\"{v}\".into());"),
                "apiToken",
            ),
            (format!("apiToken = r#\"{v}\"#"), "apiToken"),
            (format!("apiToken = '''{v}'''"), "apiToken"),
            (
                format!("client.withApiToken(\"{v}\").build()"),
                "withApiToken",
            ),
            (format!("builder.apiToken(\"{v}\")"), "apiToken"),
            (format!("props.put(\"apiToken\", \"{v}\");"), "apiToken"),
            (format!("{{apiToken, \"{v}\"}}"), "apiToken"),
            (format!("apiToken ?= {v}"), "apiToken"),
            (
                format!("public string ApiToken {{ get; init; }} = \"{v}\";"),
                "ApiToken",
            ),
            (format!("ENV[\"apiToken\"] ||= \"{v}\""), "apiToken"),
            (format!("std::string apiToken(\"{v}\");"), "apiToken"),
            (format!("apiToken := []byte(\"{v}\")"), "apiToken"),
        ] {
            assert_eq!(
                get(&text, name, Mode::Assignment).as_deref(),
                Some(v),
                "{text}"
            );
        }
    }

    #[test]
    fn calls_and_comparisons_are_not_assignments() {
        for (text, name) in [
            ("if apiToken == \"Mk7#pQ2vL9\" {", "apiToken"),
            ("checkApiToken(\"Mk7#pQ2vL9\")", "checkApiToken"),
            ("apiToken = compute(\"Mk7#pQ2vL9\")", "apiToken"),
            ("apiToken.equals(\"Mk7#pQ2vL9\")", "apiToken"),
            ("apiToken = \"Mk7#pQ2vL9", "apiToken"), // leaksweep:allow (test fixture)
            (
                "fn rotate(apiToken: Option<&str>) -> Result<()>",
                "apiToken",
            ),
        ] {
            assert_eq!(get(text, name, Mode::Assignment), None, "{text}");
        }
    }

    #[test]
    fn pairs_in_forms_not_in_rule_examples() {
        let v = "Mk7#pQ2vL9";
        for text in [
            format!("env:\n  - name: SMTP_TOKEN\n    value: {v}\n"),
            format!("[{{\"Name\": \"SMTP_TOKEN\",\n  \"Value\": \"{v}\"}}]"),
            format!("{{\n  \"value\": \"{v}\",\n  \"name\": \"SMTP_TOKEN\"\n}}"),
            format!("<parameter>\n  <name>SMTP_TOKEN</name>\n  <value>{v}</value>\n</parameter>"),
            format!("<dict><key>SMTP_TOKEN</key>\n\t<string>{v}</string>"),
            format!("<entry key=\"SMTP_TOKEN\">{v}</entry>"),
            format!("<property name=\"SMTP_TOKEN\" value=\"{v}\"/>"),
            format!("<env value=\"{v}\" name=\"SMTP_TOKEN\"/>"),
            format!("variable \"SMTP_TOKEN\" {{\n  type = string\n  default = \"{v}\"\n}}"),
            format!("- ParameterKey: SMTP_TOKEN\n  ParameterValue: '{v}'"),
        ] {
            assert_eq!(
                get(&text, "SMTP_TOKEN", Mode::Pair).as_deref(),
                Some(v),
                "{text}"
            );
        }
    }

    #[test]
    fn pairs_stop_at_the_next_setting() {
        for text in [
            "- name: SMTP_TOKEN\n  valueFrom:\n    secretKeyRef: {name: smtp}\n- name: LOG\n  value: Mk7#pQ2vL9",
            "{\"name\": \"SMTP_TOKEN\"}, {\"name\": \"X\", \"value\": \"Mk7#pQ2vL9\"}",
            "<key>SMTP_TOKEN</key><true/>",
        ] {
            assert_eq!(get(text, "SMTP_TOKEN", Mode::Pair), None, "{text}");
        }
    }
}
