//! The one difference of form between the engines' SQL: SQLite takes `?`
//! placeholders, PostgreSQL numbered ones (`$1`, `$2`, …). Queries are written
//! with `?` and numbered for PostgreSQL here. Differences of substance (locks,
//! functions) are spelled out where they occur, on `POSTGRES`.

use std::borrow::Cow;

/// `q` with each `?` outside a string literal replaced by `$1`, `$2`, ….
pub(super) fn numbered(q: &str) -> Cow<'_, str> {
    if !q.contains('?') {
        return Cow::Borrowed(q);
    }
    let mut out = String::with_capacity(q.len() + 16);
    let mut n = 0;
    let mut in_literal = false;
    for c in q.chars() {
        match c {
            '\'' => {
                in_literal = !in_literal;
                out.push(c);
            }
            '?' if !in_literal => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("UPDATE t SET a = ? WHERE b = ? AND c = ?"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
        );
    }

    #[test]
    fn question_marks_in_literals_stay() {
        assert_eq!(
            numbered("SELECT '?' FROM t WHERE s = 'a?b' AND x = ?"),
            "SELECT '?' FROM t WHERE s = 'a?b' AND x = $1"
        );
    }

    #[test]
    fn a_query_without_placeholders_is_not_copied() {
        assert!(matches!(
            numbered("SELECT 1"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
