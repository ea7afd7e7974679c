//! `filterby` text to an [`Expr`]: tokens, then recursive descent whose
//! depth is bounded (parentheses, `not`, calls and lambdas each count one
//! level; `and`/`or` chains are flat lists and add none).

use time::{Date, Duration, OffsetDateTime, Time};

use super::{invalid, Collection, Expr, Looseness, Op, Val};
use crate::timestamps;
use crate::vendors::awork::error::AworkError;
use crate::vendors::is_hyphenated_uuid;

/// Deeper nesting than this is refused (it also bounds the recursion).
pub(super) const MAX_DEPTH: usize = 32;

/// More tokens than this are refused. awork's server (Kestrel) takes a
/// request line of 8 KiB by default, so no awork filter is longer; the
/// bound keeps one user's match in proportion to it.
pub(super) const MAX_TOKENS: usize = 4096;

/// How far `today±Nd` may reach (a day count of up to six digits).
const MAX_DAY_OFFSET: i64 = 999_999;

/// The rule ids of the request notes a filter can raise
/// (`docs/vendors/awork.md`).
pub(super) const NOTE_PROPERTY_CASE: &str = "awork-filter-property-case";
pub(super) const NOTE_DATES_UTC: &str = "awork-filter-dates-utc";

/// The whole text as one expression, or why not; also where it was read
/// loosely.
pub(super) fn expression(
    text: &str,
    clock: OffsetDateTime,
) -> Result<(Expr, Looseness), AworkError> {
    read(text, clock, false)
}

/// The grammar alone: any property name reads (as `null`), so that the
/// guide's examples about other resources can be checked for syntax.
#[cfg(test)]
pub(super) fn syntax(text: &str, clock: OffsetDateTime) -> Result<Expr, AworkError> {
    read(text, clock, true).map(|(expr, _)| expr)
}

fn read(
    text: &str,
    clock: OffsetDateTime,
    any_name: bool,
) -> Result<(Expr, Looseness), AworkError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        clock,
        lambda: None,
        loose: Vec::new(),
        any_name,
    };
    let expr = parser.or(0)?;
    if let Some(token) = parser.tokens.get(parser.at) {
        return Err(invalid(format!(
            "Unexpected '{}' in the filter.",
            token.text()
        )));
    }
    Ok((expr, parser.loose))
}

// ------------------------------------------------------------------ lexing --

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Lit(Val),
    Open,
    Close,
    Comma,
    Colon,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Lit(_) => "literal".to_owned(),
            Token::Open => "(".to_owned(),
            Token::Close => ")".to_owned(),
            Token::Comma => ",".to_owned(),
            Token::Colon => ":".to_owned(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, AworkError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if tokens.len() >= MAX_TOKENS {
            return Err(invalid(format!(
                "The filter is too long: at most {MAX_TOKENS} terms."
            )));
        }
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | ':' => {
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    _ => Token::Colon,
                });
                i += 1;
            }
            '\'' => {
                let (s, next) = quoted(&chars, i)?;
                tokens.push(Token::Lit(Val::Str(s)));
                i = next;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(Token::Lit(number(&word)?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.'))
                {
                    i += 1;
                }
                // `today+5d`, `today-30d`: the offset belongs to the word.
                if chars[start..i].iter().copied().eq("today".chars())
                    && matches!(chars.get(i), Some('+' | '-'))
                {
                    i += 1;
                    while chars.get(i).is_some_and(char::is_ascii_alphanumeric) {
                        i += 1;
                    }
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    let (s, next) = quoted(&chars, i)?;
                    tokens.push(Token::Lit(typed(&word, &s)?));
                    i = next;
                } else {
                    tokens.push(Token::Word(word));
                }
            }
            other => return Err(invalid(format!("Unexpected '{other}' in the filter."))),
        }
    }
    Ok(tokens)
}

/// A single-quoted string from `start`, `''` standing for one quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), AworkError> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(invalid("A string in the filter is not closed.")),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

/// `32`, `64L`, `2.345M`, `2.029`, `2.0f`, `2d`, `0x22`.
fn number(word: &str) -> Result<Val, AworkError> {
    let bad = || invalid(format!("'{word}' is not a number."));
    if let Some(hex) = word.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16)
            .map(|b| Val::Num(f64::from(b)))
            .map_err(|_| bad());
    }
    let digits = word.trim_end_matches(['M', 'm', 'L', 'l', 'f', 'F', 'd', 'D']);
    if digits.len() + 1 < word.len() || digits.is_empty() {
        return Err(bad());
    }
    let valid = digits
        .strip_prefix('-')
        .unwrap_or(digits)
        .split_once('.')
        .map_or_else(
            || is_digits(digits.strip_prefix('-').unwrap_or(digits)),
            |(whole, fraction)| is_digits(whole) && is_digits(fraction),
        );
    if !valid {
        return Err(bad());
    }
    digits.parse::<f64>().map(Val::Num).map_err(|_| bad())
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `datetime'2000-12-12T12:00'` (no zone: UTC) and `guid'…'`.
fn typed(prefix: &str, text: &str) -> Result<Val, AworkError> {
    match prefix {
        "datetime" => [
            text.to_owned(),
            format!("{text}Z"),
            format!("{text}:00Z"),
            format!("{text}T00:00:00Z"),
        ]
        .iter()
        .find_map(|t| timestamps::parse(t))
        .map(Val::Time)
        .ok_or_else(|| invalid(format!("'{text}' is not a datetime."))),
        "guid" if is_hyphenated_uuid(text) => Ok(Val::Guid(text.to_ascii_lowercase())),
        "guid" => Err(invalid(format!("'{text}' is not a GUID."))),
        other => Err(invalid(format!("'{other}' is not a literal type."))),
    }
}

// ------------------------------------------------------------------- dates --

/// The value of a date keyword on `clock` (read in UTC), if `word` is one.
fn date_keyword(word: &str, clock: OffsetDateTime) -> Option<Result<Val, AworkError>> {
    let clock = clock.to_offset(time::UtcOffset::UTC);
    let today = clock.date();
    let out_of_range = || invalid(format!("'{word}' is outside the supported dates."));
    let midnight = |d: Date| d.with_time(Time::MIDNIGHT).assume_utc();
    // The last 100 ns tick before `next` (awork's timestamps count ticks).
    let just_before = |next: Option<Date>| {
        next.map(midnight)
            .and_then(|m| m.checked_sub(Duration::nanoseconds(100)))
            .map(Val::Time)
            .ok_or_else(out_of_range)
    };
    let monday = today.checked_sub(Duration::days(i64::from(
        today.weekday().number_days_from_monday(),
    )));
    let first_of_month = today.replace_day(1).ok();
    Some(match word {
        "now" => Ok(Val::Time(clock)),
        "today" => Ok(Val::Day(today)),
        "sow" => monday
            .map(|d| Val::Time(midnight(d)))
            .ok_or_else(out_of_range),
        "eow" => just_before(monday.and_then(|d| d.checked_add(Duration::weeks(1)))),
        "som" => first_of_month
            .map(|d| Val::Time(midnight(d)))
            .ok_or_else(out_of_range),
        "eom" => just_before(
            first_of_month
                .and_then(|d| d.checked_add(Duration::days(i64::from(d.month().length(d.year()))))),
        ),
        _ => {
            let offset = word.strip_prefix("today")?;
            let (sign, rest) = match offset.split_at_checked(1)? {
                ("+", rest) => (1, rest),
                ("-", rest) => (-1, rest),
                _ => return None,
            };
            let days = rest
                .strip_suffix('d')
                .filter(|n| is_digits(n) && n.len() <= 6)
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n <= MAX_DAY_OFFSET);
            let Some(days) = days else {
                return Some(Err(invalid(format!(
                    "'{word}' is not a relative date: write today+5d or today-30d."
                ))));
            };
            today
                .checked_add(Duration::days(sign * days))
                .map(Val::Day)
                .ok_or_else(out_of_range)
        }
    })
}

// ----------------------------------------------------------------- parsing --

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The request's clock, for the date keywords.
    clock: OffsetDateTime,
    /// Inside a lambda: its variable and the collection it ranges over.
    lambda: Option<(String, Collection)>,
    loose: Looseness,
    /// Syntax only: unknown names read as `null` (tests of the guide's
    /// examples about other resources).
    any_name: bool,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == word)
    }

    fn peek(&self, token: &Token) -> bool {
        self.tokens.get(self.at) == Some(token)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn expect(&mut self, token: Token) -> Result<(), AworkError> {
        match self.next() {
            Some(t) if t == token => Ok(()),
            _ => Err(invalid(format!(
                "Expected '{}' in the filter.",
                token.text()
            ))),
        }
    }

    fn deeper(depth: usize) -> Result<usize, AworkError> {
        if depth >= MAX_DEPTH {
            Err(invalid("The filter is nested too deeply."))
        } else {
            Ok(depth + 1)
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, AworkError> {
        let mut all = vec![self.and(depth)?];
        while self.peek_word("or") {
            self.at += 1;
            all.push(self.and(depth)?);
        }
        Ok(if all.len() == 1 {
            all.swap_remove(0)
        } else {
            Expr::Or(all)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, AworkError> {
        let mut all = vec![self.unary(depth)?];
        while self.peek_word("and") {
            self.at += 1;
            all.push(self.unary(depth)?);
        }
        Ok(if all.len() == 1 {
            all.swap_remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, AworkError> {
        if self.peek_word("not") {
            self.at += 1;
            let inner = self.unary(Parser::deeper(depth)?)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        let left = self.term(depth)?;
        if self.peek_word("in") {
            self.at += 1;
            return Ok(Expr::In(Box::new(left), self.list()?));
        }
        let op = match self.tokens.get(self.at) {
            Some(Token::Word(w)) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "lt" => Op::Lt,
                "ge" => Op::Ge,
                "le" => Op::Le,
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.term(depth)?;
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    /// The literals of `in (…)`: at least one, comma-separated.
    fn list(&mut self) -> Result<Vec<Val>, AworkError> {
        self.expect(Token::Open)?;
        let mut values = Vec::new();
        loop {
            let value = match self.next() {
                Some(Token::Lit(v)) => v,
                Some(Token::Word(w)) if w == "null" => Val::Null,
                Some(Token::Word(w)) if w == "true" => Val::Bool(true),
                Some(Token::Word(w)) if w == "false" => Val::Bool(false),
                _ => return Err(invalid("'in' takes a list of literals: ('a','b').")),
            };
            values.push(value);
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => return Ok(values),
                _ => return Err(invalid("'in' takes a list of literals: ('a','b').")),
            }
        }
    }

    fn term(&mut self, depth: usize) -> Result<Expr, AworkError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or(Parser::deeper(depth)?)?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Lit(v)) => Ok(Expr::Lit(v)),
            Some(Token::Word(word)) if self.peek(&Token::Open) => {
                self.at += 1;
                self.call(&word, Parser::deeper(depth)?)
            }
            Some(Token::Word(word)) => self.word(&word),
            Some(token) => Err(invalid(format!(
                "Unexpected '{}' in the filter.",
                token.text()
            ))),
            None => Err(invalid("The filter ends too early.")),
        }
    }

    /// A keyword, a literal word, or a property.
    fn word(&mut self, word: &str) -> Result<Expr, AworkError> {
        match word {
            "null" => return Ok(Expr::Lit(Val::Null)),
            "true" => return Ok(Expr::Lit(Val::Bool(true))),
            "false" => return Ok(Expr::Lit(Val::Bool(false))),
            "me.id" => return Ok(Expr::Me),
            _ => {}
        }
        if let Some(value) = date_keyword(word, self.clock) {
            let value = value?;
            let reading = match &value {
                Val::Day(day) => format!("the UTC day {day}"),
                Val::Time(at) => timestamps::format_ticks(*at),
                _ => String::new(),
            };
            self.loose.push((
                NOTE_DATES_UTC,
                format!("'{word}' was read in UTC on the request's clock: {reading}"),
            ));
            return Ok(Expr::Lit(value));
        }
        if let Some((var, collection)) = &self.lambda {
            if let Some(name) = word
                .strip_prefix(var.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
            {
                let Some((canonical, ty)) = collection.property(name) else {
                    if self.any_name {
                        return Ok(Expr::Lit(Val::Null));
                    }
                    return Err(invalid(format!(
                        "'{name}' is not a property of the items of '{var}'."
                    )));
                };
                self.note_case(name, canonical);
                return Ok(Expr::ItemProp(canonical, ty));
            }
        }
        let Some(canonical) = super::property_name(word) else {
            if self.any_name {
                return Ok(Expr::Lit(Val::Null));
            }
            return Err(invalid(format!(
                "'{word}' is not a filterable property of users."
            )));
        };
        self.note_case(word, canonical);
        Ok(Expr::Prop(canonical))
    }

    fn note_case(&mut self, written: &str, canonical: &'static str) {
        if written != canonical {
            self.loose.push((
                NOTE_PROPERTY_CASE,
                format!("the filter's '{written}' was read as '{canonical}'"),
            ));
        }
    }

    /// A function call or a lambda operator, after its `(`; `depth`
    /// already counts it.
    fn call(&mut self, name: &str, depth: usize) -> Result<Expr, AworkError> {
        if let Some((collection, operator)) = name.rsplit_once('/') {
            return self.lambda_call(collection, operator, depth);
        }
        let first = Box::new(self.or(depth)?);
        if name == "tolower" {
            self.expect(Token::Close)?;
            return Ok(Expr::ToLower(first));
        }
        self.expect(Token::Comma)?;
        let second = Box::new(self.or(depth)?);
        self.expect(Token::Close)?;
        match name {
            "startswith" => Ok(Expr::StartsWith(first, second)),
            "endswith" => Ok(Expr::EndsWith(first, second)),
            "substringof" => Ok(Expr::SubstringOf(first, second)),
            other => Err(invalid(format!(
                "'{other}' is not supported in user filters."
            ))),
        }
    }

    /// `teams/any()`, `teams/any(t: …)`, `teams/count()`,
    /// `teams/count(t: …)`, after the `(`.
    fn lambda_call(
        &mut self,
        collection: &str,
        operator: &str,
        depth: usize,
    ) -> Result<Expr, AworkError> {
        let any = match operator {
            "any" => true,
            "count" => false,
            other => {
                return Err(invalid(format!(
                    "'{other}' is not supported in user filters."
                )))
            }
        };
        let written = collection;
        let (canonical, collection) = match Collection::named(collection) {
            Some(found) => found,
            None if self.any_name => ("teams", Collection::Teams),
            None => {
                return Err(invalid(format!(
                    "'{collection}' is not a collection of users."
                )))
            }
        };
        self.note_case(written, canonical);
        if self.lambda.is_some() {
            return Err(invalid(format!(
                "'{operator}' cannot be nested in another lambda."
            )));
        }
        let condition = if self.peek(&Token::Close) {
            None
        } else {
            let var = match self.next() {
                Some(Token::Word(w))
                    if w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    w
                }
                _ => {
                    return Err(invalid(format!(
                        "'{operator}' takes a lambda: {canonical}/{operator}(x: x/name eq 'a')."
                    )))
                }
            };
            self.expect(Token::Colon)?;
            self.lambda = Some((var, collection));
            let body = self.or(depth);
            self.lambda = None;
            Some(Box::new(body?))
        };
        self.expect(Token::Close)?;
        Ok(if any {
            Expr::Any(collection, condition)
        } else {
            Expr::Count(collection, condition)
        })
    }
}
