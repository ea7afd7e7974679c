//! `filterby` text to an [`Expr`]: tokens, then recursive descent with a
//! depth bound.

use super::{invalid, Expr, Op, Val};
use crate::timestamps;
use crate::vendors::awork::error::AworkError;
use crate::vendors::is_hyphenated_uuid;

/// Deeper nesting than this is refused (it also bounds the recursion).
const MAX_DEPTH: usize = 32;

/// The whole text as one expression, or why not.
pub(super) fn expression(text: &str) -> Result<Expr, AworkError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or(0)?;
    if let Some(token) = parser.tokens.get(parser.at) {
        return Err(invalid(format!(
            "Unexpected '{}' in the filter.",
            token.text()
        )));
    }
    Ok(expr)
}

// ------------------------------------------------------------------ lexing --

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Lit(Val),
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Lit(_) => "literal".to_owned(),
            Token::Open => "(".to_owned(),
            Token::Close => ")".to_owned(),
            Token::Comma => ",".to_owned(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, AworkError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
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

// ----------------------------------------------------------------- parsing --

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == word)
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

    fn or(&mut self, depth: usize) -> Result<Expr, AworkError> {
        if depth > MAX_DEPTH {
            return Err(invalid("The filter is nested too deeply."));
        }
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, AworkError> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, AworkError> {
        if self.peek_word("not") {
            self.at += 1;
            if depth > MAX_DEPTH {
                return Err(invalid("The filter is nested too deeply."));
            }
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        let left = self.term(depth)?;
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

    fn term(&mut self, depth: usize) -> Result<Expr, AworkError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Lit(v)) => Ok(Expr::Lit(v)),
            Some(Token::Word(word)) if matches!(self.tokens.get(self.at), Some(Token::Open)) => {
                self.at += 1;
                self.call(&word, depth)
            }
            Some(Token::Word(word)) => match word.as_str() {
                "null" => Ok(Expr::Lit(Val::Null)),
                "true" => Ok(Expr::Lit(Val::Bool(true))),
                "false" => Ok(Expr::Lit(Val::Bool(false))),
                "me.id" => Ok(Expr::Me),
                _ => super::property_name(&word).map(Expr::Prop).ok_or_else(|| {
                    invalid(format!("'{word}' is not a filterable property of users."))
                }),
            },
            Some(token) => Err(invalid(format!(
                "Unexpected '{}' in the filter.",
                token.text()
            ))),
            None => Err(invalid("The filter ends too early.")),
        }
    }

    /// A function call, after its `(`.
    fn call(&mut self, name: &str, depth: usize) -> Result<Expr, AworkError> {
        if depth > MAX_DEPTH {
            return Err(invalid("The filter is nested too deeply."));
        }
        let first = Box::new(self.or(depth + 1)?);
        if name == "tolower" {
            self.expect(Token::Close)?;
            return Ok(Expr::ToLower(first));
        }
        self.expect(Token::Comma)?;
        let second = Box::new(self.or(depth + 1)?);
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
}
