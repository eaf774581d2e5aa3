//! Arithmetic for timing windows whose bounds depend on the EUT's own configuration (TP-469
//! 11.6: the first retry between `ConnectRetryTime` and
//! `ConnectRetryTime * ConnectRetryIntervalMultiplier / 1000` seconds). After the
//! `${variables}` are filled in, the text is numbers with `+ - * / ^` and parentheses.

/// Evaluates `text`; an error says what is wrong with it.
pub fn eval(text: &str) -> Result<f64, String> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, at: 0 };
    let v = p.sum()?;
    if p.at != p.tokens.len() {
        return Err(format!("{text:?}: unexpected {}", p.tokens[p.at]));
    }
    if !v.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Op(char),
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Num(n) => write!(f, "{n}"),
            Tok::Op(c) => write!(f, "'{c}'"),
        }
    }
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if "+-*/^()".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Tok::Num(
                s.parse()
                    .map_err(|_| format!("{text:?}: {s:?} is not a number"))?,
            ));
        } else {
            return Err(format!(
                "{text:?}: unexpected {c:?} (numbers and + - * / ^ ( ) only)"
            ));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut v = self.product()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.at += 1;
            let r = self.product()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut v = self.power()?;
        while let Some(Tok::Op(op @ ('*' | '/'))) = self.peek().cloned() {
            self.at += 1;
            let r = self.power()?;
            v = if op == '*' { v * r } else { v / r };
        }
        Ok(v)
    }

    fn power(&mut self) -> Result<f64, String> {
        let base = self.atom()?;
        if let Some(Tok::Op('^')) = self.peek() {
            self.at += 1;
            let exp = self.power()?;
            return Ok(base.powf(exp));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<f64, String> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.at += 1;
                Ok(n)
            }
            Some(Tok::Op('-')) => {
                self.at += 1;
                Ok(-self.atom()?)
            }
            Some(Tok::Op('(')) => {
                self.at += 1;
                let v = self.sum()?;
                match self.peek() {
                    Some(Tok::Op(')')) => {
                        self.at += 1;
                        Ok(v)
                    }
                    _ => Err("a '(' is not closed".into()),
                }
            }
            Some(other) => Err(format!("expected a number, found {other}")),
            None => Err("expected a number, found the end".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::eval;

    #[test]
    fn arithmetic_with_precedence() {
        assert_eq!(eval("5").unwrap(), 5.0);
        assert_eq!(eval("5 * 2000 / 1000").unwrap(), 10.0);
        assert_eq!(eval("5 * (2000 / 1000) ^ 2").unwrap(), 20.0);
        assert_eq!(eval("2 ^ 3 ^ 2").unwrap(), 512.0);
        assert_eq!(eval("1 + 2 * 3 - -1").unwrap(), 8.0);
        assert!(eval("5 *").is_err());
        assert!(eval("(5").is_err());
        assert!(eval("5 s").is_err());
        assert!(eval("1 / 0").is_err());
    }

    #[test]
    fn errors_name_the_token_as_written_not_as_rust_debug_text() {
        assert_eq!(eval("5 *").unwrap_err(), "expected a number, found the end");
        assert_eq!(eval("5 2").unwrap_err(), "\"5 2\": unexpected 2");
        assert_eq!(eval("* 5").unwrap_err(), "expected a number, found '*'");
    }
}
