//! The metric expression language: one small grammar for populations and outcomes.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | term [cmp number]
//! term    := name ["(" [arg ("," arg)*] ")"]
//! arg     := name "=" value | value          value := "string" | name | number
//! cmp     := ">=" | ">" | "<=" | "<" | "==" | "!="
//! ```
//!
//! This module only parses; [`crate::definition`] gives the terms their meaning and checks them
//! against the framework. Every node keeps its byte span so errors can name a line and column.

use std::fmt;

/// A byte range inside the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A term used as a condition: `milestone(element = "civic")`, `served`.
    Term(Term),
    /// A term compared with a number: `hours >= 12`.
    Compare(Term, CmpOp, f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub name: String,
    /// `None` for a bare name, `Some` (possibly empty) when written with parentheses.
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub key: Option<String>,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Name(String),
    Number(f64),
}

impl Value {
    /// The value as text, for arguments that name something (`esl` and `"esl"` alike).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Name(s) => Some(s),
            Value::Number(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            CmpOp::Ge => left >= right,
            CmpOp::Gt => left > right,
            CmpOp::Le => left <= right,
            CmpOp::Lt => left < right,
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
        }
    }
}

/// A syntax error at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Str(String),
    Number(f64),
    LParen,
    RParen,
    Comma,
    Assign,
    Cmp(CmpOp),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Name(n) => write!(f, "`{n}`"),
            Token::Str(_) => f.write_str("a string"),
            Token::Number(n) => write!(f, "`{n}`"),
            Token::LParen => f.write_str("`(`"),
            Token::RParen => f.write_str("`)`"),
            Token::Comma => f.write_str("`,`"),
            Token::Assign => f.write_str("`=`"),
            Token::Cmp(_) => f.write_str("a comparison"),
        }
    }
}

fn lex(source: &str) -> Result<Vec<(Token, Span)>, SyntaxError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let token = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Token::LParen,
            b')' => Token::RParen,
            b',' => Token::Comma,
            b'>' | b'<' | b'=' | b'!' => {
                let next = bytes.get(i + 1).copied();
                let (token, width) = match (c, next) {
                    (b'>', Some(b'=')) => (Token::Cmp(CmpOp::Ge), 2),
                    (b'<', Some(b'=')) => (Token::Cmp(CmpOp::Le), 2),
                    (b'=', Some(b'=')) => (Token::Cmp(CmpOp::Eq), 2),
                    (b'!', Some(b'=')) => (Token::Cmp(CmpOp::Ne), 2),
                    (b'>', _) => (Token::Cmp(CmpOp::Gt), 1),
                    (b'<', _) => (Token::Cmp(CmpOp::Lt), 1),
                    (b'=', _) => (Token::Assign, 1),
                    _ => {
                        return Err(SyntaxError {
                            offset: start,
                            message: "`!` must be followed by `=`; write `not` for negation".into(),
                        });
                    }
                };
                i += width;
                tokens.push((token, Span { start, end: i }));
                continue;
            }
            b'"' => {
                let close = source[i + 1..].find('"').ok_or_else(|| SyntaxError {
                    offset: start,
                    message: "this string has no closing `\"`".into(),
                })?;
                let text = source[i + 1..i + 1 + close].to_owned();
                i += close + 2;
                tokens.push((Token::Str(text), Span { start, end: i }));
                continue;
            }
            b'0'..=b'9' | b'-' | b'.' => {
                let mut end = i + 1;
                while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                    end += 1;
                }
                let text = &source[i..end];
                let number: f64 = text.parse().map_err(|_| SyntaxError {
                    offset: start,
                    message: format!("`{text}` is not a number"),
                })?;
                i = end;
                tokens.push((Token::Number(number), Span { start, end }));
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i + 1;
                while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'.')) {
                    end += 1;
                }
                let name = source[i..end].to_owned();
                i = end;
                tokens.push((Token::Name(name), Span { start, end }));
                continue;
            }
            _ => {
                let ch = source[i..].chars().next().unwrap_or('?');
                return Err(SyntaxError {
                    offset: start,
                    message: format!("unexpected character `{ch}`"),
                });
            }
        };
        i += 1;
        tokens.push((token, Span { start, end: i }));
    }
    Ok(tokens)
}

/// Parses one expression; the whole text must be consumed.
pub fn parse(source: &str) -> Result<Expr, SyntaxError> {
    let tokens = lex(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: source.len(),
    };
    if parser.tokens.is_empty() {
        return Err(SyntaxError {
            offset: 0,
            message: "the expression is empty".into(),
        });
    }
    let expr = parser.or()?;
    if let Some((token, span)) = parser.peek() {
        return Err(SyntaxError {
            offset: span.start,
            message: format!("unexpected {token} after a complete expression (missing `and` or `or`?)"),
        });
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<(Token, Span)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<(&Token, Span)> {
        self.tokens.get(self.pos).map(|(t, s)| (t, *s))
    }

    fn next(&mut self) -> Option<(Token, Span)> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some((Token::Name(n), _)) if n == keyword)
    }

    fn error_here(&self, expected: &str) -> SyntaxError {
        match self.peek() {
            Some((token, span)) => SyntaxError {
                offset: span.start,
                message: format!("expected {expected}, found {token}"),
            },
            None => SyntaxError {
                offset: self.end,
                message: format!("expected {expected}, found the end of the expression"),
            },
        }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and()?;
        while self.is_keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while self.is_keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek() {
            Some((Token::LParen, _)) => {
                self.pos += 1;
                let inner = self.or()?;
                match self.next() {
                    Some((Token::RParen, _)) => Ok(inner),
                    _ => {
                        self.pos -= 1;
                        Err(self.error_here("`)`"))
                    }
                }
            }
            Some((Token::Name(name), _)) if matches!(name.as_str(), "and" | "or") => {
                Err(self.error_here("a condition"))
            }
            Some((Token::Name(_), _)) => {
                let term = self.term()?;
                if let Some((Token::Cmp(op), _)) = self.peek() {
                    let op = *op;
                    self.pos += 1;
                    match self.next() {
                        Some((Token::Number(n), _)) => Ok(Expr::Compare(term, op, n)),
                        _ => {
                            self.pos -= 1;
                            Err(self.error_here("a number"))
                        }
                    }
                } else {
                    Ok(Expr::Term(term))
                }
            }
            _ => Err(self.error_here("a condition")),
        }
    }

    fn term(&mut self) -> Result<Term, SyntaxError> {
        let Some((Token::Name(name), span)) = self.next() else {
            self.pos -= 1;
            return Err(self.error_here("a name"));
        };
        if !matches!(self.peek(), Some((Token::LParen, _))) {
            return Ok(Term { name, args: None, span });
        }
        self.pos += 1;
        let mut args = Vec::new();
        if let Some((Token::RParen, close)) = self.peek() {
            self.pos += 1;
            let span = Span {
                start: span.start,
                end: close.end,
            };
            return Ok(Term {
                name,
                args: Some(args),
                span,
            });
        }
        loop {
            args.push(self.arg()?);
            match self.next() {
                Some((Token::Comma, _)) => continue,
                Some((Token::RParen, close)) => {
                    let span = Span {
                        start: span.start,
                        end: close.end,
                    };
                    return Ok(Term {
                        name,
                        args: Some(args),
                        span,
                    });
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.error_here("`,` or `)`"));
                }
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, SyntaxError> {
        let key = match (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)) {
            (Some((Token::Name(key), _)), Some((Token::Assign, _))) => {
                let key = key.clone();
                self.pos += 2;
                Some(key)
            }
            _ => None,
        };
        let start = self.tokens.get(self.pos).map_or(self.end, |(_, s)| s.start);
        let value = match self.next() {
            Some((Token::Str(s), _)) => Value::Str(s),
            Some((Token::Name(n), _)) => Value::Name(n),
            Some((Token::Number(n), _)) => Value::Number(n),
            _ => {
                self.pos -= 1;
                return Err(self.error_here("a value (a \"string\", a name or a number)"));
            }
        };
        let end = self.tokens.get(self.pos - 1).map_or(self.end, |(_, s)| s.end);
        Ok(Arg {
            key,
            value,
            span: Span { start, end },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(name: &str) -> String {
        name.to_owned()
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let expr = parse("served or not barrier(low_income) and hours >= 12").expect("parses");
        let Expr::Or(left, right) = expr else {
            panic!("or binds loosest: {expr:?}")
        };
        assert!(matches!(*left, Expr::Term(Term { ref name, .. }) if *name == term("served")));
        let Expr::And(not, cmp) = *right else {
            panic!("and under or")
        };
        assert!(matches!(*not, Expr::Not(_)));
        assert!(matches!(*cmp, Expr::Compare(_, CmpOp::Ge, n) if n == 12.0));
    }

    #[test]
    fn arguments_may_be_named_quoted_or_numbers() {
        let expr = parse(
            r#"milestone(element = "civic", id = credentials.naturalized) and assessment_gain("casas_reading") > 4.5"#,
        )
        .expect("parses");
        let Expr::And(left, right) = expr else { panic!() };
        let Expr::Term(milestone) = *left else { panic!() };
        let args = milestone.args.expect("has args");
        assert_eq!(args[0].key.as_deref(), Some("element"));
        assert_eq!(args[0].value, Value::Str("civic".into()));
        assert_eq!(args[1].value, Value::Name("credentials.naturalized".into()));
        let Expr::Compare(gain, CmpOp::Gt, n) = *right else {
            panic!()
        };
        assert_eq!(gain.args.expect("args")[0].key, None);
        assert_eq!(n, 4.5);
    }

    #[test]
    fn empty_argument_lists_and_parentheses() {
        let expr = parse("(milestone() or exited)").expect("parses");
        let Expr::Or(left, _) = expr else { panic!() };
        assert!(matches!(*left, Expr::Term(Term { args: Some(ref a), .. }) if a.is_empty()));
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let cases = [
            ("hours >= ", 9, "expected a number, found the end"),
            ("hours >= twelve", 9, "expected a number, found `twelve`"),
            ("milestone(element = )", 20, "expected a value"),
            ("served barrier(x)", 7, "unexpected `barrier`"),
            ("served and", 10, "expected a condition"),
            ("(served", 7, "expected `)`"),
            ("\"civic", 0, "no closing"),
            ("hours ! 3", 6, "write `not`"),
            ("hours >= 1.2.3", 9, "is not a number"),
            ("", 0, "empty"),
            ("served & x", 7, "unexpected character `&`"),
            ("program(esl abe)", 12, "expected `,` or `)`"),
        ];
        for (source, offset, message) in cases {
            let err = parse(source).expect_err(source);
            assert_eq!(err.offset, offset, "{source}: {err}");
            assert!(err.message.contains(message), "{source}: {err}");
        }
    }

    #[test]
    fn spans_cover_the_term() {
        let Expr::Compare(term, ..) = parse("  assessment_gain(\"x\") >= 5").expect("parses") else {
            panic!()
        };
        assert_eq!((term.span.start, term.span.end), (2, 22));
    }
}
