//! The participant self-assessment: which questions exist, in what order, and how answers are scored.
//!
//! The question texts live in the Fluent files (`sa-q-<element>-<n>`); this module only knows ids.

use std::collections::BTreeMap;

/// The eight integration elements, in the order the questionnaire presents them.
/// Each has a heading message `sa-element-<id>`.
pub const ELEMENTS: &[&str] = &[
    "english",
    "education",
    "economic",
    "credentials",
    "health",
    "civic",
    "navigation",
    "social",
];

/// The highest answer on the 5-point scale (`sa-scale-0` ..= `sa-scale-4`).
pub const MAX_ANSWER: u8 = 4;

/// The message ids of the answer scale, from 0 to [`MAX_ANSWER`].
pub const SCALE: &[&str] = &["sa-scale-0", "sa-scale-1", "sa-scale-2", "sa-scale-3", "sa-scale-4"];

/// One question: its message id (also the form field name) and the element it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// The Fluent message id, e.g. `"sa-q-english-1"`.
    pub id: &'static str,
    /// One of [`ELEMENTS`].
    pub element: &'static str,
}

const fn q(id: &'static str, element: &'static str) -> Question {
    Question { id, element }
}

/// Every question in order, grouped by element in [`ELEMENTS`] order; 2 or 3 per element.
pub const QUESTIONS: &[Question] = &[
    q("sa-q-english-1", "english"),
    q("sa-q-english-2", "english"),
    q("sa-q-english-3", "english"),
    q("sa-q-education-1", "education"),
    q("sa-q-education-2", "education"),
    q("sa-q-economic-1", "economic"),
    q("sa-q-economic-2", "economic"),
    q("sa-q-economic-3", "economic"),
    q("sa-q-credentials-1", "credentials"),
    q("sa-q-credentials-2", "credentials"),
    q("sa-q-credentials-3", "credentials"),
    q("sa-q-health-1", "health"),
    q("sa-q-health-2", "health"),
    q("sa-q-health-3", "health"),
    q("sa-q-civic-1", "civic"),
    q("sa-q-civic-2", "civic"),
    q("sa-q-navigation-1", "navigation"),
    q("sa-q-navigation-2", "navigation"),
    q("sa-q-navigation-3", "navigation"),
    q("sa-q-social-1", "social"),
    q("sa-q-social-2", "social"),
    q("sa-q-social-3", "social"),
];

/// The result of [`score`]: each element in `0.0..=1.0`, in [`ELEMENTS`] order, and the overall score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// `(element id, mean of that element's answers / 4)`.
    pub elements: Vec<(&'static str, f64)>,
    /// The mean of the element scores (every element weighs the same, whatever its number of questions).
    pub overall: f64,
}

/// Why a set of answers could not be scored. Names the first offending question in [`QUESTIONS`] order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("question {id} was not answered")]
    Missing { id: &'static str },
    #[error("question {id} has answer {value}, outside 0..={max}", max = MAX_ANSWER)]
    OutOfRange { id: &'static str, value: u8 },
}

impl ScoreError {
    /// The id of the question at fault.
    pub fn question_id(&self) -> &'static str {
        match self {
            ScoreError::Missing { id } | ScoreError::OutOfRange { id, .. } => id,
        }
    }
}

/// Scores answers (question id -> `0..=4`): per element, the mean of its answers divided by 4; overall, the
/// mean of the element scores. Keys that are not question ids are ignored.
pub fn score(answers: &BTreeMap<String, u8>) -> Result<Scores, ScoreError> {
    let mut elements = Vec::with_capacity(ELEMENTS.len());
    for &element in ELEMENTS {
        let mut sum = 0u32;
        let mut count = 0u32;
        for question in QUESTIONS.iter().filter(|q| q.element == element) {
            let value = *answers
                .get(question.id)
                .ok_or(ScoreError::Missing { id: question.id })?;
            if value > MAX_ANSWER {
                return Err(ScoreError::OutOfRange { id: question.id, value });
            }
            sum += u32::from(value);
            count += 1;
        }
        // Every element has questions (checked by a test); guard anyway so this can never divide by zero.
        let element_score = if count == 0 {
            0.0
        } else {
            f64::from(sum) / f64::from(count * u32::from(MAX_ANSWER))
        };
        elements.push((element, element_score));
    }
    let overall = if elements.is_empty() {
        0.0
    } else {
        elements.iter().map(|(_, s)| s).sum::<f64>() / elements.len() as f64
    };
    Ok(Scores { elements, overall })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, u8)]) -> BTreeMap<String, u8> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn full_example() -> BTreeMap<String, u8> {
        answers(&[
            ("sa-q-english-1", 4),
            ("sa-q-english-2", 4),
            ("sa-q-english-3", 4),
            ("sa-q-education-1", 0),
            ("sa-q-education-2", 1),
            ("sa-q-economic-1", 2),
            ("sa-q-economic-2", 2),
            ("sa-q-economic-3", 2),
            ("sa-q-credentials-1", 0),
            ("sa-q-credentials-2", 0),
            ("sa-q-credentials-3", 0),
            ("sa-q-health-1", 3),
            ("sa-q-health-2", 3),
            ("sa-q-health-3", 3),
            ("sa-q-civic-1", 4),
            ("sa-q-civic-2", 2),
            ("sa-q-navigation-1", 1),
            ("sa-q-navigation-2", 2),
            ("sa-q-navigation-3", 3),
            ("sa-q-social-1", 4),
            ("sa-q-social-2", 3),
            ("sa-q-social-3", 2),
        ])
    }

    #[test]
    fn elements_and_questions_are_consistent() {
        // Grouped by element, in ELEMENTS order, with 2 or 3 questions each, numbered 1.. within the element.
        let mut seen = Vec::new();
        for question in QUESTIONS {
            if seen.last() != Some(&question.element) {
                assert!(!seen.contains(&question.element), "{} is not grouped", question.element);
                seen.push(question.element);
            }
        }
        assert_eq!(seen, ELEMENTS);
        for &element in ELEMENTS {
            let ids: Vec<&str> = QUESTIONS
                .iter()
                .filter(|q| q.element == element)
                .map(|q| q.id)
                .collect();
            assert!((2..=3).contains(&ids.len()), "{element} has {} questions", ids.len());
            for (i, id) in ids.iter().enumerate() {
                assert_eq!(*id, format!("sa-q-{element}-{}", i + 1));
            }
        }
        assert_eq!(SCALE.len(), usize::from(MAX_ANSWER) + 1);
    }

    #[test]
    fn hand_computed_example() {
        // By hand, each element = sum / (number of questions * 4):
        //   english     4+4+4 = 12 / 12 = 1.0
        //   education   0+1   =  1 /  8 = 0.125
        //   economic    2+2+2 =  6 / 12 = 0.5
        //   credentials 0+0+0 =  0 / 12 = 0.0
        //   health      3+3+3 =  9 / 12 = 0.75
        //   civic       4+2   =  6 /  8 = 0.75
        //   navigation  1+2+3 =  6 / 12 = 0.5
        //   social      4+3+2 =  9 / 12 = 0.75
        // overall = (1 + 0.125 + 0.5 + 0 + 0.75 + 0.75 + 0.5 + 0.75) / 8 = 4.375 / 8 = 0.546875
        let mut given = full_example();
        given.insert("csrf-token-or-anything-else".to_owned(), 200); // not a question: ignored
        let scores = score(&given).expect("complete answers score");
        let expected = [
            ("english", 1.0),
            ("education", 0.125),
            ("economic", 0.5),
            ("credentials", 0.0),
            ("health", 0.75),
            ("civic", 0.75),
            ("navigation", 0.5),
            ("social", 0.75),
        ];
        assert_eq!(scores.elements.len(), expected.len());
        for ((got_id, got), (want_id, want)) in scores.elements.iter().zip(expected) {
            assert_eq!(*got_id, want_id);
            assert!((got - want).abs() < 1e-12, "{want_id}: {got} != {want}");
        }
        assert!((scores.overall - 0.546875).abs() < 1e-12, "overall {}", scores.overall);
    }

    #[test]
    fn all_zero_and_all_four_are_the_bounds() {
        for (value, want) in [(0u8, 0.0), (4, 1.0)] {
            let given: BTreeMap<String, u8> = QUESTIONS.iter().map(|q| (q.id.to_owned(), value)).collect();
            let scores = score(&given).expect("complete answers score");
            assert!(scores.elements.iter().all(|(_, s)| (*s - want).abs() < 1e-12));
            assert!((scores.overall - want).abs() < 1e-12);
        }
    }

    #[test]
    fn missing_answer_is_an_error() {
        let mut given = full_example();
        given.remove("sa-q-health-2");
        given.remove("sa-q-social-1");
        let err = score(&given).expect_err("incomplete answers");
        assert_eq!(err, ScoreError::Missing { id: "sa-q-health-2" });
        assert_eq!(err.question_id(), "sa-q-health-2");
        assert!(err.to_string().contains("sa-q-health-2"));
        assert!(score(&BTreeMap::new()).is_err());
    }

    #[test]
    fn out_of_range_answer_is_an_error() {
        let mut given = full_example();
        given.insert("sa-q-civic-2".to_owned(), 5);
        let err = score(&given).expect_err("5 is out of range");
        assert_eq!(
            err,
            ScoreError::OutOfRange {
                id: "sa-q-civic-2",
                value: 5
            }
        );
        assert!(err.to_string().contains("sa-q-civic-2"));
    }
}
