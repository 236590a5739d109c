//! Behaviour of the whole pipeline: syntax, semantics, published patterns, errors, limits, and
//! robustness against hostile input.

use serde_json::{json, Value};

use super::*;

#[track_caller]
fn check(pattern: &str, event: &LogEvent, want: bool) {
    let parsed = parse(pattern).unwrap_or_else(|e| panic!("{pattern:?} failed to parse: {e}"));
    let text: String = event.text().chars().take(200).collect();
    let pattern: String = pattern.chars().take(200).collect();
    assert_eq!(
        parsed.matches(event),
        want,
        "pattern {pattern:?} against {text:?}"
    );
}

#[track_caller]
fn table(event: &LogEvent, cases: &[(&str, bool)]) {
    for &(pattern, want) in cases {
        check(pattern, event, want);
    }
}

// ---- syntax forms and semantics -----------------------------------------------------------

#[test]
fn empty_pattern_matches_everything() {
    for pattern in ["", "   ", "\t\n "] {
        for event in [
            LogEvent::new(""),
            LogEvent::new("x"),
            LogEvent::new("{\"a\":1}"),
        ] {
            check(pattern, &event, true);
        }
    }
}

#[test]
fn term_patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("ERROR", "[ERROR] A fatal exception has occurred", true),
        ("ERROR", "Exiting with ERRORCODE: -1", true),
        ("ERROR", "error in lower case", false),
        (
            "ERROR -Exiting",
            "[ERROR] A fatal exception has occurred",
            true,
        ),
        ("ERROR -Exiting", "Exiting with ERRORCODE: -1", false),
        (
            "ERROR Exception",
            "[ERROR] Caught IllegalArgumentException",
            true,
        ),
        ("ERROR Exception", "[ERROR] Unhandled Exception", true),
        ("ERROR Exception", "[ERROR] Unhandled", false),
        ("ERROR ARGUMENTS", "ARGUMENTS before ERROR", true),
        (
            "\"Failed to process the request\"",
            "[WARN] Failed to process the request",
            true,
        ),
        (
            "\"Failed to process the request\"",
            "Failed to process request",
            false,
        ),
        ("Failed to process", "process Failed to", true),
        ("?ERROR ?WARN", "[ERROR] boom", true),
        ("?ERROR ?WARN", "[WARN] hmm", true),
        ("?ERROR ?WARN", "[INFO] fine", false),
        ("-\"Exiting now\"", "Exiting later", true),
        ("-\"Exiting now\"", "Exiting now", false),
        ("-DEBUG", "anything", true),
        // `?` starts a group; plain and `-` terms join the group they follow.
        ("?ERROR -Exiting ?WARN", "ERROR Exiting", false),
        ("?ERROR -Exiting ?WARN", "ERROR Exiting WARN", true),
        ("?ERROR -Exiting ?WARN", "ERROR only", true),
        ("?ERROR Timeout ?WARN Deadlock", "ERROR Deadlock", false),
        ("?ERROR Timeout ?WARN Deadlock", "WARN Deadlock", true),
        ("?ERROR Timeout ?WARN Deadlock", "Timeout ERROR", true),
        ("ERROR ?WARN", "WARN", true),
        ("ERROR ?WARN", "ERROR", true),
        ("ERROR ?WARN", "INFO", false),
        ("?-DEBUG ?ERROR", "DEBUG ERROR", true),
        ("?-DEBUG ?ERROR", "DEBUG", false),
        ("?\"a b\" ?\"c d\"", "xc dx", true),
        // `*` is literal in terms; punctuation needs no quotes here.
        ("ERR*", "ERROR", false),
        ("ERR*", "ERR*", true),
        ("code=(5)", "x code=(5) y", true),
        ("\"say \\\"hi\\\"\"", "they say \"hi\"", true),
        ("\"C:\\temp\"", "dir C:\\temp", true),
        ("\"-1\"", "code -1", true),
        ("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", true),
        ("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST", true),
        ("%^\\[ERROR%", "[ERROR 401] x", true),
        ("%^\\[ERROR%", "x [ERROR 401]", false),
        ("-%DEBUG|TRACE%", "TRACE x", false),
        ("héllo", "say héllo", true),
    ];
    for &(pattern, text, want) in cases {
        check(pattern, &LogEvent::new(text), want);
    }
}

fn sample() -> LogEvent {
    LogEvent::from_json(json!({
        "eventName": "ConsoleLogin",
        "code": 5,
        "codeStr": "5",
        "neg": -1.5,
        "big": 1000,
        "huge": 9007199254740993u64,
        "flag": true,
        "off": false,
        "nothing": null,
        "obj": {"inner": "x", "deeper": {"leaf": 7}},
        "arr": [10, "two", {"b": "deep"}, [1, [2, 3]]],
        "empty": "",
        "star": "a*b",
        "quote": "say \"hi\" \\o/",
        "unicode": "héllo",
        "user-name": "dash",
        "@type": "at",
        "aws:arn": "colon",
        "under_score9": "us",
        "arn": "arn:aws:iam::123:root",
        "region": "us-east-1",
        "trueStr": "true",
        "with space": "unreachable",
    }))
}

#[test]
fn json_selectors_and_arrays() {
    table(
        &sample(),
        &[
            ("{ $.eventName = ConsoleLogin }", true),
            ("{ $.obj.inner = x }", true),
            ("{ $.obj.deeper.leaf = 7 }", true),
            ("{ $.arr[0] = 10 }", true),
            ("{ $.arr[1] = two }", true),
            ("{ $.arr[2].b = deep }", true),
            ("{ $.arr[3][1][0] = 2 }", true),
            ("{ $.arr[3][1][1] = 3 }", true),
            ("{ $.arr[4] NOT EXISTS }", true),
            ("{ $.arr[99999999999] NOT EXISTS }", true),
            ("{ $.arr.b NOT EXISTS }", true),
            ("{ $.obj[0] NOT EXISTS }", true),
            ("{ $.eventName.x NOT EXISTS }", true),
            ("{ $.nothing.x NOT EXISTS }", true),
            ("{ $.user-name = dash }", true),
            ("{ $.@type = at }", true),
            ("{ $.aws:arn = colon }", true),
            ("{ $.under_score9 = us }", true),
            ("{ $.unicode = héllo }", true),
            ("{$.eventName=ConsoleLogin}", true),
            ("  {\n\t$.eventName\n=\n\"ConsoleLogin\"\n}  ", true),
        ],
    );
}

#[test]
fn json_values_and_comparisons() {
    table(
        &sample(),
        &[
            // Strings: quoted and unquoted.
            ("{ $.eventName = \"ConsoleLogin\" }", true),
            ("{ $.eventName != \"ConsoleLogin\" }", false),
            ("{ $.eventName != GetUser }", true),
            ("{ $.eventName = consolelogin }", false),
            ("{ $.arn = arn:aws:iam::123:root }", true),
            ("{ $.region = us-east-1 }", true),
            ("{ $.empty = \"\" }", true),
            ("{ $.empty != \"\" }", false),
            ("{ $.quote = \"say \\\"hi\\\" \\\\o/\" }", true),
            // Numbers.
            ("{ $.code = 5 }", true),
            ("{ $.code = 5.0 }", true),
            ("{ $.code = 0.5e1 }", true),
            ("{ $.code != 5 }", false),
            ("{ $.code != 6 }", true),
            ("{ $.code < 6 }", true),
            ("{ $.code <= 5 }", true),
            ("{ $.code > 5 }", false),
            ("{ $.code >= 5 }", true),
            ("{ $.neg = -1.5 }", true),
            ("{ $.neg < -1 }", true),
            ("{ $.neg > -2 }", true),
            ("{ $.big = 1e3 }", true),
            ("{ $.big > 999.5 }", true),
            ("{ $.huge = 9007199254740993 }", true),
            ("{ $.huge != 9007199254740992 }", true),
            // Typed comparison: no string/number coercion either way.
            ("{ $.code = \"5\" }", false),
            ("{ $.codeStr = 5 }", false),
            ("{ $.codeStr = \"5\" }", true),
            ("{ $.codeStr > 4 }", false),
            ("{ $.codeStr != 5 }", false),
            ("{ $.code != \"6\" }", false),
            // Unquoted true/false/null are JSON literals; quoted they are text.
            ("{ $.flag = true }", true),
            ("{ $.flag != true }", false),
            ("{ $.flag != false }", true),
            ("{ $.off = false }", true),
            ("{ $.nothing = null }", true),
            ("{ $.nothing != null }", false),
            ("{ $.trueStr = true }", false),
            ("{ $.trueStr = \"true\" }", true),
            ("{ $.flag = \"true\" }", false),
            ("{ $.code = true }", false),
            ("{ $.code != true }", false),
            // Words that look numeric-ish but are not numbers are text.
            ("{ $.eventName != inf }", true),
            ("{ $.eventName != NaN }", true),
        ],
    );
}

#[test]
fn wildcards_in_values() {
    table(
        &sample(),
        &[
            ("{ $.eventName = Console* }", true),
            ("{ $.eventName = \"Console*\" }", true),
            ("{ $.eventName = *Login }", true),
            ("{ $.eventName = \"*Login\" }", true),
            // A `*` inside the value is literal (AWS: "Ev*ent will only match the actual string
            // Ev*ent").
            ("{ $.eventName = C*L*n }", false),
            ("{ $.eventName = *sole*gin }", false),
            ("{ $.eventName = \"*sole*\" }", true),
            ("{ $.eventName = ConsoleLogin* }", true),
            ("{ $.eventName = *ConsoleLogin }", true),
            ("{ $.eventName = * }", true),
            ("{ $.eventName = ** }", true),
            ("{ $.eventName = Login* }", false),
            ("{ $.eventName = *Console }", false),
            ("{ $.eventName != Console* }", false),
            ("{ $.eventName != Get* }", true),
            ("{ $.empty = * }", true),
            ("{ $.empty = \"*\" }", true),
            ("{ $.region = us-*-1 }", false),
            ("{ $.region = *-east-* }", true),
            ("{ $.region = *-west-* }", false),
            // A middle `*` matches only itself; leading and trailing ones stay wildcards.
            ("{ $.star = \"a*b\" }", true),
            ("{ $.star = a*b }", true),
            ("{ $.star = *a*b* }", true),
            ("{ $.star = \"*\\*b\" }", false),
            ("{ $.eventName = \"a*b\" }", false),
            // A bare `*` is any string or number (AWS: `{ $.latency = * }` on "latency": 50);
            // other globs are text and compare with strings only.
            ("{ $.code = * }", true),
            ("{ $.code = \"*\" }", true),
            ("{ $.neg = * }", true),
            ("{ $.huge = * }", true),
            ("{ $.code != * }", false),
            ("{ $.code = 5* }", false),
            ("{ $.code = *5 }", false),
            ("{ $.flag = * }", false),
            ("{ $.nothing = * }", false),
            ("{ $.obj = * }", false),
            ("{ $.arr = * }", false),
            ("{ $.missing = * }", false),
        ],
    );
}

#[test]
fn regex_values() {
    table(
        &sample(),
        &[
            ("{ $.eventName = %Console% }", true),
            ("{ $.eventName = %sole.*gin% }", true),
            ("{ $.eventName = %^Login% }", false),
            ("{ $.eventName = %^Console% }", true),
            ("{ $.eventName = %Login$% }", true),
            ("{ $.eventName = %^C[a-z]+L[a-z]+$% }", true),
            ("{ $.eventName != %Delete.*Bucket% }", true),
            ("{ $.eventName != %Login% }", false),
            ("{ $.code = %5% }", false),
            ("{ $.code != %5% }", false),
            ("{ $.missing != %x% }", false),
            ("{ $.eventName = %Console% && $.region = %east% }", true),
        ],
    );
    let delete = LogEvent::from_json(json!({"eventName": "DeleteBucketPolicy"}));
    check("{ $.eventName = %Delete.*Bucket% }", &delete, true);
    check("{ $.eventName = %^Delete.*Bucket$% }", &delete, false);
}

#[test]
fn null_exists_true_false() {
    table(
        &sample(),
        &[
            ("{ $.nothing IS NULL }", true),
            ("{ $.code IS NULL }", false),
            ("{ $.missing IS NULL }", false),
            ("{ $.nothing NOT EXISTS }", false),
            ("{ $.missing NOT EXISTS }", true),
            ("{ $.obj.missing NOT EXISTS }", true),
            ("{ $.code NOT EXISTS }", false),
            ("{ $.flag IS TRUE }", true),
            ("{ $.flag IS FALSE }", false),
            ("{ $.off IS FALSE }", true),
            ("{ $.off IS TRUE }", false),
            ("{ $.trueStr IS TRUE }", false),
            ("{ $.missing IS TRUE }", false),
            ("{ $.missing IS FALSE }", false),
            ("{ $.nothing is null }", true),
            ("{ $.missing not exists }", true),
            ("{ $.flag Is True }", true),
            ("{ $.missing NOT   EXISTS }", true),
        ],
    );
}

#[test]
fn objects_and_arrays_never_match() {
    table(
        &sample(),
        &[
            ("{ $.obj = x }", false),
            ("{ $.obj != x }", false),
            ("{ $.obj = \"*\" }", false),
            ("{ $.obj > 1 }", false),
            ("{ $.obj IS NULL }", false),
            ("{ $.obj IS TRUE }", false),
            ("{ $.obj NOT EXISTS }", false),
            ("{ $.arr = 10 }", false),
            ("{ $.arr != 10 }", false),
            ("{ $.arr[3] = 1 }", false),
            ("{ $.arr[3] NOT EXISTS }", false),
            ("{ $.arr[2] = %.% }", false),
            ("{ $.obj = null }", false),
        ],
    );
}

#[test]
fn missing_field_and_mismatched_type_never_compare() {
    table(
        &sample(),
        &[
            ("{ $.missing = x }", false),
            ("{ $.missing != x }", false),
            ("{ $.missing != \"\" }", false),
            ("{ $.missing != 5 }", false),
            ("{ $.missing < 5 }", false),
            ("{ $.missing != true }", false),
            ("{ $.eventName != 5 }", false),
            ("{ $.eventName < 5 }", false),
            ("{ $.code != ConsoleLogin }", false),
            ("{ $.nothing != x }", false),
            ("{ $.nothing != 0 }", false),
            ("{ $.flag != 1 }", false),
            ("{ $.missing NOT EXISTS || $.missing != x }", true),
        ],
    );
}

#[test]
fn precedence_and_grouping() {
    // a = true, b = false, c = false.
    let e = LogEvent::from_json(json!({"a": 1, "b": 0, "c": 0}));
    table(
        &e,
        &[
            ("{ $.a = 1 || $.b = 1 && $.c = 1 }", true),
            ("{ ($.a = 1 || $.b = 1) && $.c = 1 }", false),
            ("{ $.b = 1 && $.c = 1 || $.a = 1 }", true),
            ("{ $.b = 1 && ($.c = 1 || $.a = 1) }", false),
            ("{ $.a = 1 && $.b = 0 && $.c = 0 }", true),
            ("{ $.a = 0 || $.b = 1 || $.c = 0 }", true),
            ("{ ($.a = 1) && ($.b = 0) }", true),
            ("{ $.a = 1 && $.b = 0 }", true),
            ("{ ((($.a = 1))) }", true),
            ("{ (($.a = 1) && (($.b = 1) || ($.c = 0))) }", true),
            ("{ ( $.a = 1 )&&( $.b = 1 ) }", false),
        ],
    );
}

#[test]
fn non_json_events_never_match_json_patterns() {
    for text in ["plain text", "", "{not json", "[1, 2", "{\"a\": 1"] {
        let e = LogEvent::new(text);
        assert!(e.json().is_none(), "{text}");
        for pattern in [
            "{ $.a = 1 }",
            "{ $.a NOT EXISTS }",
            "{ $.a != 1 }",
            "{ $.a = * }",
        ] {
            check(pattern, &e, false);
        }
    }
    // JSON text is parsed once by `new`, and term patterns still see the raw text.
    let e = LogEvent::new("{\"eventName\": \"StopLogging\"}");
    check("{ $.eventName = StopLogging }", &e, true);
    check("StopLogging", &e, true);
    check("\"\\\"eventName\\\": \"", &e, true);
    // A scalar JSON document has no fields.
    check("{ $.a NOT EXISTS }", &LogEvent::new("5"), true);
}

#[test]
fn space_delimited_patterns() {
    let apache = LogEvent::new(
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 1534",
    );
    table(
        &apache,
        &[
            (
                "[ip, user, username, timestamp, request, status_code, bytes]",
                true,
            ),
            (
                "[ip, user, username, timestamp, request, status_code]",
                false,
            ),
            (
                "[ip, user, username, timestamp, request, status_code, bytes, extra]",
                false,
            ),
            ("[ip, user, ..., status_code = 4*, size > 1000]", true),
            ("[ip, user, ..., status_code = 4*, size > 2000]", false),
            ("[..., status_code != 200, bytes]", true),
            ("[..., status_code != 404, bytes]", false),
            ("[..., status_code = 4* || status_code = 5*, bytes]", true),
            ("[..., status_code = 5* || status_code = 2*, bytes]", false),
            (
                "[..., status_code = 4* && status_code != 404, bytes]",
                false,
            ),
            (
                "[..., (status_code = 4* || status_code = 5*) && status_code != 403, bytes]",
                true,
            ),
            ("[ip = 127.0.0.*, ...]", true),
            ("[ip = \"127.0.0.1\", ...]", true),
            ("[ip = 10.*, ...]", false),
            ("[ip, user, username, timestamp = *2000*, ...]", true),
            (
                "[ip, user, username, timestamp = \"10/Oct/2000:13:25:15 -0700\", ...]",
                true,
            ),
            (
                "[ip, user, username, timestamp, request = \"GET *\", ...]",
                true,
            ),
            (
                "[ip, user, username, timestamp, request = %^GET /apache%, ...]",
                true,
            ),
            (
                "[ip, user, username, timestamp, request = *.html*, ...]",
                false,
            ),
            ("[..., bytes = 1534]", true),
            ("[..., bytes = 1534.0]", true),
            ("[..., bytes = \"1534\"]", true),
            ("[..., bytes >= 1534]", true),
            ("[..., bytes < 1534]", false),
            ("[...]", true),
            ("[..., ...]", true),
            ("[ip, ..., request, ..., bytes]", true),
            ("[..., user = -, ..., bytes = 1534]", true),
            ("[..., user = frank, ..., status_code = 404, ...]", true),
            ("[..., user = nobody, ...]", false),
            (
                "[ip,user,username,timestamp,request,status_code,bytes]",
                true,
            ),
        ],
    );
    let dash = LogEvent::new("GET /x 200 -");
    table(
        &dash,
        &[
            ("[method, path, code, bytes > 0]", false),
            ("[method, path, code, bytes != 0]", false),
            ("[method, path, code, bytes = -]", true),
            ("[method, path, code = 200, bytes]", true),
        ],
    );
    let words = LogEvent::new("ERROR disk full");
    table(
        &words,
        &[
            ("[w1 = ERROR, w2, w3]", true),
            ("[w1 = ERROR, w2]", false),
            ("[w1 = ERROR, ...]", true),
            ("[w1 = WARN, ...]", false),
            ("[w1, w2 = disk, w3 = full]", true),
            ("[w1 = true]", false),
        ],
    );
    check("[w1 = true]", &LogEvent::new("true"), true);
    check("[...]", &LogEvent::new(""), true);
    check("[a]", &LogEvent::new(""), false);
    check("[a, ...]", &LogEvent::new("   "), false);
}

// ---- published patterns ------------------------------------------------------------------

#[test]
fn aws_documentation_examples() {
    let e = LogEvent::from_json(json!({
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": null,
        "ThisFlag": true
    }));
    table(
        &e,
        &[
            ("{ $.eventType = \"UpdateTrail\" }", true),
            ("{ $.sourceIPAddress != 123.123.* }", true),
            ("{ $.sourceIPAddress != 111.111.* }", false),
            ("{ $.arrayKey[0] = \"value\" }", true),
            ("{ $.arrayKey[1] = \"value\" }", false),
            ("{ $.objectList[1].id = 2 }", true),
            ("{ $.objectList[0].id = 2 }", false),
            ("{ $.SomeObject IS NULL }", true),
            ("{ $.SomeOtherObject NOT EXISTS }", true),
            ("{ $.ThisFlag IS TRUE }", true),
        ],
    );
    let e = LogEvent::from_json(json!({
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 10], [20, 30]]
    }));
    table(
        &e,
        &[
            ("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", true),
            ("{ ($.user.id = 2 && $.users[0].email = \"John.Doe@example.com\") || $.actions[2] = \"GET\" }", false),
            ("{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }", true),
            ("{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }", false),
            ("{ $.coordinates[1][0] = 20 }", true),
        ],
    );
}

/// Every example of AWS's "Filter and Pattern Syntax" page (CloudWatch Logs User Guide,
/// FilterAndPatternSyntax), with the events it gives. Each row: pattern, event, expected, and the
/// section it comes from.
#[test]
fn aws_filter_and_pattern_syntax_page() {
    let cases: &[(&str, &str, bool)] = &[
        // Matching Terms in Log Events. Example 1: "" matches all log events.
        ("", "anything", true),
        ("\"\"", "anything", true),
        // Example 2: ERROR.
        ("ERROR", "[ERROR] A fatal exception has occurred", true),
        ("ERROR", "Exiting with ERRORCODE: -1", true),
        // Example 3: "ERROR" - "Exiting", written with the blanks the page shows.
        (
            "\"ERROR\" - \"Exiting\"",
            "[ERROR] A fatal exception has occurred",
            true,
        ),
        (
            "\"ERROR\" - \"Exiting\"",
            "Exiting with ERRORCODE: -1",
            false,
        ),
        ("ERROR -Exiting", "Exiting with ERRORCODE: -1", false),
        // Example 4: multiple terms.
        (
            "ERROR Exception",
            "[ERROR] Caught IllegalArgumentException",
            true,
        ),
        ("ERROR Exception", "[ERROR] Unhandled Exception", true),
        (
            "Failed to process the request",
            "[WARN] Failed to process the request",
            true,
        ),
        (
            "Failed to process the request",
            "[ERROR] Unable to continue: Failed to process the request",
            true,
        ),
        // OR Pattern Matching: ERROR matches 1 and 2, ?ERROR ?WARN all three, ERROR WARN only 1,
        // ERROR -WARN only 2.
        ("ERROR", "ERROR WARN message", true),
        ("ERROR", "ERROR message", true),
        ("ERROR", "WARN message", false),
        ("?ERROR ?WARN", "ERROR WARN message", true),
        ("?ERROR ?WARN", "ERROR message", true),
        ("?ERROR ?WARN", "WARN message", true),
        ("ERROR WARN", "ERROR WARN message", true),
        ("ERROR WARN", "ERROR message", false),
        ("ERROR WARN", "WARN message", false),
        ("ERROR -WARN", "ERROR WARN message", false),
        ("ERROR -WARN", "ERROR message", true),
        ("ERROR -WARN", "WARN message", false),
        // Space-delimited OR: [w1=ERROR, w2] matches 2; [w1=ERROR || w1=WARN, w2] matches 2 and 3.
        ("[w1=ERROR, w2]", "ERROR WARN message", false),
        ("[w1=ERROR, w2]", "ERROR message", true),
        ("[w1=ERROR, w2]", "WARN message", false),
        ("[w1=ERROR || w1=WARN, w2]", "ERROR WARN message", false),
        ("[w1=ERROR || w1=WARN, w2]", "ERROR message", true),
        ("[w1=ERROR || w1=WARN, w2]", "WARN message", true),
        // The page says [w1!=ERROR&&w1!=WARN, w2] matches line 1, which has three fields and ERROR
        // first; that contradicts both rules above, so it matches none of the three here.
        ("[w1!=ERROR&&w1!=WARN, w2]", "ERROR WARN message", false),
        ("[w1!=ERROR&&w1!=WARN, w2]", "ERROR message", false),
        ("[w1!=ERROR&&w1!=WARN, w2]", "INFO message", true),
        // JSON OR: {$.foo = bar} matches 1, {$.foo = baz } 2, {$.foo = bar || $.foo = baz } both.
        ("{$.foo = bar}", r#"{"foo": "bar"}"#, true),
        ("{$.foo = bar}", r#"{"foo": "baz"}"#, false),
        ("{$.foo = baz }", r#"{"foo": "baz"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "bar"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "baz"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "qux"}"#, false),
        // STRING: "*Event will match PutEvent and GetEvent. Event* will match EventId and
        // EventName. Ev*ent will only match the actual string Ev*ent."
        ("{ $.e = *Event }", r#"{"e": "PutEvent"}"#, true),
        ("{ $.e = *Event }", r#"{"e": "GetEvent"}"#, true),
        ("{ $.e = *Event }", r#"{"e": "EventId"}"#, false),
        ("{ $.e = Event* }", r#"{"e": "EventId"}"#, true),
        ("{ $.e = Event* }", r#"{"e": "EventName"}"#, true),
        ("{ $.e = Event* }", r#"{"e": "PutEvent"}"#, false),
        ("{ $.e = Ev*ent }", r#"{"e": "Ev*ent"}"#, true),
        ("{ $.e = Ev*ent }", r#"{"e": "Event"}"#, false),
        ("{ $.e = Ev*ent }", r#"{"e": "Evxent"}"#, false),
        ("{ $.e = \"Ev*ent\" }", r#"{"e": "Evxent"}"#, false),
        // Unicode and other characters in quotes.
        ("{ $.e = \"héllo@$\\\\\" }", r#"{"e": "héllo@$\\"}"#, true),
        // JSON Special Considerations: both {$.users = 1} and {$.users != 1} fail on an array.
        ("{$.users = 1}", r#"{"users": [1, 2, 3]}"#, false),
        ("{$.users != 1}", r#"{"users": [1, 2, 3]}"#, false),
        // Numeric Comparisons: "An integer with an optional + or - sign, a decimal with an
        // optional + or - sign, or a number in scientific notation".
        ("{ $.latency >= 500 }", r#"{"latency": 500}"#, true),
        ("{ $.latency >= 500 }", r#"{"latency": 499.9}"#, false),
        ("{ $.numbers[0] < 10e3 }", r#"{"numbers": [9999]}"#, true),
        ("{ $.numbers[0] < 10e3 }", r#"{"numbers": [10000]}"#, false),
        ("{ $.numbers[0] < 10e-3 }", r#"{"numbers": [0.009]}"#, true),
        ("{ $.numbers[0] < 10e-3 }", r#"{"numbers": [0.01]}"#, false),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            r#"{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}"#,
            true,
        ),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            r#"{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.6}]}"#,
            false,
        ),
        ("{ $.errorCode = 400 }", r#"{"errorCode": 400}"#, true),
        ("{ $.errorCode != 500 }", r#"{"errorCode": 400}"#, true),
        ("{ $.errorCode != 500 }", r#"{"errorCode": 500}"#, false),
        ("{ $.latency > +1000 }", r#"{"latency": 1001}"#, true),
        ("{ $.latency > +1000 }", r#"{"latency": 1000}"#, false),
        ("{ $.latency > +1000 }", r#"{"latency": -2000}"#, false),
        ("{ $.latency > -1000 }", r#"{"latency": -999}"#, true),
        ("{ $.latency = +1.5 }", r#"{"latency": 1.5}"#, true),
        ("{ $.latency = -1.5 }", r#"{"latency": -1.5}"#, true),
        ("{ $.latency = 1e3 }", r#"{"latency": 1000}"#, true),
        ("{ $.latency = +1E+3 }", r#"{"latency": 1000}"#, true),
        ("{ $.latency < -1.5e-2 }", r#"{"latency": -0.02}"#, true),
        ("{ $.latency = 1e3 }", r#"{"latency": 1e3}"#, true),
        // Publishing Numerical Values Found in Log Entries: { $.latency = * } on "latency": 50.
        (
            "{ $.latency = * }",
            r#"{"latency": 50, "requestType": "GET"}"#,
            true,
        ),
        ("{ $.latency = * }", r#"{"requestType": "GET"}"#, false),
    ];
    for &(pattern, text, want) in cases {
        check(pattern, &LogEvent::new(text), want);
    }

    // Space-delimited: the page's three Apache lines and every pattern it shows for them.
    let lines = [
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534",
        "127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] \"GET /apache_pb.gif HTTP/1.0\" 500 5324",
        "127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 4355",
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534",
    ];
    let delimited: &[(&str, [bool; 4])] = &[
        ("[ip, user, username, timestamp, request, status_code, bytes]", [true; 4]),
        ("[..., status_code, bytes]", [true; 4]),
        ("[ip, user, ..., status_code, bytes]", [true; 4]),
        ("[ip, user, ...]", [true; 4]),
        ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", [true; 4]),
        ("[ip, user, username, timestamp, request, status_code, bytes > 5000]", [false, true, false, false]),
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", [true, false, true, false]),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", [false, false, false, true]),
        ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", [false, false, false, true]),
        ("[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]", [false, false, false, true]),
        // The trailing comma is an unnamed field: the page's extracted fields show it taking
        // the last field ("$7": "1534").
        ("[..., request=*.html*, status_code=4*,]", [false, false, false, true]),
        ("[..., request=*.html*, status_code=4*]", [false; 4]),
        // Numeric ranges and OR on one field; a numeric condition on text is false.
        ("[..., bytes >= 1534 && bytes < 5000]", [true, false, true, true]),
        ("[..., bytes < 2000 || bytes > 5000]", [true, true, false, true]),
        ("[..., status_code = %^[45]%, bytes]", [false, true, false, true]),
        ("[ip, user = -, ...]", [true; 4]),
        ("[ip, , user, ...]", [true; 4]),
        ("[, , , , , , ]", [true; 4]),
        ("[, , , , , ]", [false; 4]),
    ];
    for &(pattern, wants) in delimited {
        for (line, want) in lines.iter().zip(wants) {
            check(pattern, &LogEvent::new(*line), want);
        }
    }
    // `status_code = 4* && bytes > 1000` tests two fields in one slot: the page's example has six
    // slots for seven fields, so it cannot mean what it shows; it stays an error here.
    let err = parse("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]")
        .unwrap_err();
    assert!(err.message.contains("can only test that field"), "{err}");
}

/// AWS's JSON compound-conditions example, with the page's own event.
#[test]
fn aws_compound_conditions_example() {
    let e = LogEvent::new(
        r#"{
            "user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
            "actions": ["GET", "PUT", "DELETE"],
            "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
        }"#,
    );
    table(
        &e,
        &[
            ("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", true),
            ("{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }", false),
            ("{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }", true),
            ("{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }", false),
            ("{ $.coordinates[2][2] = 9 && $.users[1].id = 3 }", true),
        ],
    );
}

/// Keys, values and terms are case-sensitive; keywords are not; non-ASCII text is compared as
/// written.
#[test]
fn case_and_unicode() {
    let e =
        LogEvent::new(r#"{"eventName": "ConsoleLogin", "Ort": "Zürich", "名前": "値", "n": 1}"#);
    table(
        &e,
        &[
            ("{ $.eventname = ConsoleLogin }", false),
            ("{ $.eventname NOT EXISTS }", true),
            ("{ $.eventName = CONSOLELOGIN }", false),
            ("{ $.eventName = %consolelogin% }", false),
            ("{ $.eventName = %(?i)consolelogin% }", true),
            ("{ $.Ort = \"Zürich\" }", true),
            ("{ $.Ort = Zürich }", true),
            ("{ $.Ort = \"ZÜRICH\" }", false),
            ("{ $.Ort = *rich }", true),
            ("{ $.名前 = 値 }", true),
            ("{ $.n = 1 && $.Ort IS NULL || $.n not exists }", false),
            ("Zürich", true),
            ("zürich", false),
            ("?nothing ?名前", true),
            ("Zürich -値", false),
        ],
    );
    check("[a, b = Zürich*]", &LogEvent::new("x Zürich-1"), true);
    check("[a, b = zürich*]", &LogEvent::new("x Zürich-1"), false);
}

/// Signs and exponents are numbers wherever a value is: in space-delimited conditions and in
/// the field text they compare with.
#[test]
fn signed_numbers_in_delimited_fields() {
    let cases: &[(&str, &str, bool)] = &[
        ("[a, n > +1000]", "x 1001", true),
        ("[a, n > +1000]", "x +1001", true),
        ("[a, n = 1e3]", "x 1000", true),
        ("[a, n = 1000]", "x +1e3", true),
        ("[a, n < -1.5]", "x -2", true),
        ("[a, n < -1.5]", "x -1", false),
        ("[a, n != 5]", "x +5", false),
        ("[a, n = +5]", "x five", false),
        ("[a, n = 5*]", "x 50", true),
        ("[a, n = *]", "x anything", true),
        ("[a, n = 1*0]", "x 1*0", true),
        ("[a, n = 1*0]", "x 100", false),
    ];
    for &(pattern, text, want) in cases {
        check(pattern, &LogEvent::new(text), want);
    }
}

fn ct(value: Value) -> LogEvent {
    LogEvent::from_json(value)
}

/// Every listed event name matches (with `source` as eventSource, if any); an unlisted name does
/// not; with a source, a listed name from another source does not.
#[track_caller]
fn event_name_alarm(pattern: &str, source: Option<&str>, names: &[&str]) {
    let src = source.unwrap_or("ec2.amazonaws.com");
    for name in names {
        check(
            pattern,
            &ct(json!({"eventSource": src, "eventName": name})),
            true,
        );
        if source.is_some() {
            check(
                pattern,
                &ct(json!({"eventSource": "sts.amazonaws.com", "eventName": name})),
                false,
            );
        }
    }
    for other in ["DescribeInstances", "GetObject", "ListUsers"] {
        check(
            pattern,
            &ct(json!({"eventSource": src, "eventName": other})),
            false,
        );
    }
    check(pattern, &LogEvent::new(names.join(" ")), false);
}

#[test]
fn cis_unauthorized_api_calls() {
    let v12 = "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }";
    let cases = [
        (json!({"errorCode": "Client.UnauthorizedOperation"}), true),
        (json!({"errorCode": "UnauthorizedOperation"}), true),
        (json!({"errorCode": "AccessDenied"}), true),
        (json!({"errorCode": "AccessDeniedException"}), true),
        (json!({"errorCode": "UnauthorizedOperationX"}), false),
        (json!({"errorCode": "Client.AccessDenied"}), false),
        (json!({"errorCode": "ThrottlingException"}), false),
        (json!({"eventName": "GetObject"}), false),
    ];
    for (event, want) in &cases {
        check(v12, &ct(event.clone()), *want);
    }
    // v1.4+: `&&` binds tighter, so the exclusions only guard the AccessDenied branch.
    let v14 = "{($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress!=\"delivery.logs.amazonaws.com\") && ($.eventName!=\"HeadBucket\")}";
    let cases = [
        (
            json!({"errorCode": "AccessDenied", "sourceIPAddress": "1.2.3.4", "eventName": "GetObject"}),
            true,
        ),
        (
            json!({"errorCode": "AccessDenied", "sourceIPAddress": "delivery.logs.amazonaws.com", "eventName": "PutObject"}),
            false,
        ),
        (
            json!({"errorCode": "AccessDenied", "sourceIPAddress": "1.2.3.4", "eventName": "HeadBucket"}),
            false,
        ),
        (
            json!({"errorCode": "Client.UnauthorizedOperation", "sourceIPAddress": "delivery.logs.amazonaws.com", "eventName": "HeadBucket"}),
            true,
        ),
        (
            json!({"errorCode": "AccessDenied", "eventName": "GetObject"}),
            false,
        ),
        (
            json!({"errorCode": "NoSuchKey", "sourceIPAddress": "1.2.3.4", "eventName": "GetObject"}),
            false,
        ),
    ];
    for (event, want) in &cases {
        check(v14, &ct(event.clone()), *want);
    }
}

#[test]
fn cis_console_login_without_mfa() {
    let basic =
        "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }";
    let strict = "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") && ($.userIdentity.type = \"IAMUser\") && ($.responseElements.ConsoleLogin = \"Success\") }";
    let no_mfa = json!({
        "eventName": "ConsoleLogin",
        "userIdentity": {"type": "IAMUser"},
        "additionalEventData": {"MFAUsed": "No"},
        "responseElements": {"ConsoleLogin": "Success"}
    });
    check(basic, &ct(no_mfa.clone()), true);
    check(strict, &ct(no_mfa.clone()), true);
    let mut with_mfa = no_mfa.clone();
    with_mfa["additionalEventData"]["MFAUsed"] = json!("Yes");
    check(basic, &ct(with_mfa.clone()), false);
    check(strict, &ct(with_mfa), false);
    let mut failed = no_mfa.clone();
    failed["responseElements"]["ConsoleLogin"] = json!("Failure");
    check(basic, &ct(failed.clone()), true);
    check(strict, &ct(failed), false);
    let mut role = no_mfa.clone();
    role["userIdentity"]["type"] = json!("AssumedRole");
    check(strict, &ct(role), false);
    // `!=` on a missing field does not match (see module docs).
    let mut no_data = no_mfa.clone();
    if let Some(obj) = no_data.as_object_mut() {
        obj.remove("additionalEventData");
    }
    check(basic, &ct(no_data), false);
    let mut other = no_mfa;
    other["eventName"] = json!("GetUser");
    check(basic, &ct(other), false);
}

#[test]
fn cis_root_account_usage() {
    let p = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";
    let cases = [
        (
            json!({"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}),
            true,
        ),
        (
            json!({"userIdentity": {"type": "Root"}, "eventType": "AwsConsoleSignIn"}),
            true,
        ),
        (
            json!({"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"}, "eventType": "AwsApiCall"}),
            false,
        ),
        (
            json!({"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"}),
            false,
        ),
        (
            json!({"userIdentity": {"type": "IAMUser"}, "eventType": "AwsApiCall"}),
            false,
        ),
        (json!({"userIdentity": {"type": "Root"}}), false),
    ];
    for (event, want) in &cases {
        check(p, &ct(event.clone()), *want);
    }
}

#[test]
fn cis_event_name_alarms() {
    let iam = [
        "DeleteGroupPolicy",
        "DeleteRolePolicy",
        "DeleteUserPolicy",
        "PutGroupPolicy",
        "PutRolePolicy",
        "PutUserPolicy",
        "CreatePolicy",
        "DeletePolicy",
        "CreatePolicyVersion",
        "DeletePolicyVersion",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
    ];
    let clauses: Vec<String> = iam.iter().map(|n| format!("($.eventName={n})")).collect();
    event_name_alarm(&format!("{{{}}}", clauses.join("||")), None, &iam);
    let mut iam_v3 = iam.to_vec();
    iam_v3.push("SetDefaultPolicyVersion");
    let clauses: Vec<String> = iam_v3
        .iter()
        .map(|n| format!("($.eventName={n})"))
        .collect();
    event_name_alarm(
        &format!(
            "{{($.eventSource=iam.amazonaws.com) && ({})}}",
            clauses.join("||")
        ),
        Some("iam.amazonaws.com"),
        &iam_v3,
    );

    event_name_alarm(
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        None,
        &["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"],
    );
    event_name_alarm(
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
        Some("kms.amazonaws.com"),
        &["DisableKey", "ScheduleKeyDeletion"],
    );
    event_name_alarm(
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
        Some("s3.amazonaws.com"),
        &[
            "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
            "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
            "DeleteBucketLifecycle", "DeleteBucketReplication",
        ],
    );
    event_name_alarm(
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
        Some("config.amazonaws.com"),
        &["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"],
    );
    event_name_alarm(
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
        None,
        &[
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ],
    );
    event_name_alarm(
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
        None,
        &[
            "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
            "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
        ],
    );
    event_name_alarm(
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
        None,
        &[
            "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
            "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
        ],
    );
    event_name_alarm(
        "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
        Some("ec2.amazonaws.com"),
        &[
            "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
            "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
        ],
    );
    event_name_alarm(
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
        None,
        &[
            "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
            "DisableVpcClassicLink", "EnableVpcClassicLink",
        ],
    );
    let orgs = [
        "AcceptHandshake",
        "AttachPolicy",
        "CreateAccount",
        "CreateOrganizationalUnit",
        "CreatePolicy",
        "DeclineHandshake",
        "DeleteOrganization",
        "DeleteOrganizationalUnit",
        "DeletePolicy",
        "DetachPolicy",
        "DisablePolicyType",
        "EnablePolicyType",
        "InviteAccountToOrganization",
        "LeaveOrganization",
        "MoveAccount",
        "RemoveAccountFromOrganization",
        "UpdatePolicy",
        "UpdateOrganizationalUnit",
    ];
    let clauses: Vec<String> = orgs
        .iter()
        .map(|n| format!("($.eventName = \"{n}\")"))
        .collect();
    event_name_alarm(
        &format!(
            "{{ ($.eventSource = organizations.amazonaws.com) && ({}) }}",
            clauses.join(" || ")
        ),
        Some("organizations.amazonaws.com"),
        &orgs,
    );
}

#[test]
fn cis_console_authentication_failures() {
    let p = "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
    check(
        p,
        &ct(json!({"eventName": "ConsoleLogin", "errorMessage": "Failed authentication"})),
        true,
    );
    check(
        p,
        &ct(json!({"eventName": "ConsoleLogin", "errorMessage": "Failed  authentication"})),
        false,
    );
    check(
        p,
        &ct(json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Success"}})),
        false,
    );
    check(
        p,
        &ct(json!({"eventName": "CheckMfa", "errorMessage": "Failed authentication"})),
        false,
    );
}

#[test]
fn practitioner_patterns() {
    let p = "{ ($.eventName = ConsoleLogin) && ($.sourceIPAddress != \"8.8.8.8\") }";
    check(
        p,
        &ct(json!({"eventName": "ConsoleLogin", "sourceIPAddress": "1.2.3.4"})),
        true,
    );
    check(
        p,
        &ct(json!({"eventName": "ConsoleLogin", "sourceIPAddress": "8.8.8.8"})),
        false,
    );
    check(p, &ct(json!({"eventName": "ConsoleLogin"})), false);

    let p = "{ ($.eventName = RunInstances) && (($.requestParameters.instanceType = *.8xlarge) || ($.requestParameters.instanceType = *.4xlarge)) }";
    for (ty, want) in [
        ("m5.8xlarge", true),
        ("c5.4xlarge", true),
        ("t3.micro", false),
        ("m5.18xlarge", false),
    ] {
        let e = ct(json!({"eventName": "RunInstances", "requestParameters": {"instanceType": ty}}));
        check(p, &e, want);
    }
    check(
        p,
        &ct(
            json!({"eventName": "StartInstances", "requestParameters": {"instanceType": "m5.8xlarge"}}),
        ),
        false,
    );

    let p = "{($.awsRegion != \"ap-northeast-1\") && ($.eventName = \"Create*\")}";
    check(
        p,
        &ct(json!({"awsRegion": "us-east-1", "eventName": "CreateBucket"})),
        true,
    );
    check(
        p,
        &ct(json!({"awsRegion": "ap-northeast-1", "eventName": "CreateBucket"})),
        false,
    );
    check(
        p,
        &ct(json!({"awsRegion": "us-east-1", "eventName": "DeleteBucket"})),
        false,
    );
    check(p, &ct(json!({"eventName": "CreateBucket"})), false);
}

// ---- errors and limits -------------------------------------------------------------------

#[test]
fn error_messages() {
    let cases: &[(&str, &str)] = &[
        ("{ $.a = 1", "at byte 9: expected `}`, found end of pattern"),
        ("{ ($.eventName = 1 ", "at byte 19: expected `)`, found end of pattern"),
        ("{ ($.a = 1 }", "at byte 11: expected `)`, found `}`"),
        ("{ ($.a = 1) ) }", "at byte 12: expected `}`, found `)`"),
        ("{ $.a = )", "at byte 8: expected a value after `=`, found `)`"),
        ("{ $.a = }", "at byte 8: expected a value after `=`, found `}`"),
        ("{ $.a == 1 }", "at byte 7: expected a value after `=`, found `=`"),
        ("{ $.a < \"x\" }", "at byte 8: expected a number after `<`, found `\"x\"`"),
        ("{ $.a >= abc }", "at byte 9: expected a number after `>=`, found `abc`"),
        ("{ $.a > %x% }", "at byte 8: expected a number after `>`, found `%x%`"),
        ("{ a = 1 }", "at byte 2: expected a selector such as `$.field`, or `(`, found `a`"),
        ("{}", "at byte 1: expected a selector such as `$.field`, or `(`, found `}`"),
        ("{ $.a = 1 && }", "at byte 13: expected a selector such as `$.field`, or `(`, found `}`"),
        ("{ $.a = 1 || || $.b = 1 }", "at byte 13: expected a selector such as `$.field`, or `(`, found `||`"),
        ("{ $.a IS MAYBE }", "at byte 9: expected `NULL`, `TRUE` or `FALSE` after `IS`, found `MAYBE`"),
        ("{ $.a NOT THERE }", "at byte 10: expected `EXISTS` after `NOT`, found `THERE`"),
        ("{ $.a 1 }", "at byte 6: expected an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `IS` or `NOT EXISTS`) after `$.a`, found `1`"),
        ("{ $. = 1 }", "at byte 4: expected a property name after `.`, found whitespace"),
        ("{ $.a. = 1 }", "at byte 6: expected a property name after `.`, found whitespace"),
        ("{ $.a..b = 1 }", "at byte 6: expected a property name after `.`, found `.`"),
        ("{ $ = 1 }", "at byte 3: expected `.` or `[` after `$`, found whitespace"),
        ("{ $a = 1 }", "at byte 3: expected `.` or `[` in the selector, found `a`"),
        ("{ $.a[x] = 1 }", "at byte 6: expected an array index (digits) after `[`, found `x`"),
        ("{ $.a[*] = 1 }", "at byte 6: expected an array index (digits) after `[`, found `*`"),
        ("{ $.a[1 = 1 }", "at byte 7: expected `]` after the array index, found whitespace"),
        ("{ $.a#b = 1 }", "at byte 5: expected `.` or `[` in the selector, found `#`"),
        ("{ $.a = 1 } extra", "at byte 12: expected end of pattern, found `extra`"),
        ("{ $.a = 1 & $.b = 2 }", "at byte 10: expected `&&`, found a single `&`"),
        ("{ $.a = \"abc }", "at byte 8: unterminated string: expected a closing `\"`, found end of pattern"),
        ("{ $.a = %abc }", "at byte 8: unterminated regular expression: expected a closing `%`, found end of pattern"),
        ("{ $.a = %% }", "at byte 8: expected a regular expression between the `%` signs, found `%%`"),
        ("[]", "at byte 1: expected a field name (letters, digits, `_`, `-`), `...` or `(`, found `]`"),
        ("[a, b", "at byte 5: expected `,` or `]` after a field, found end of pattern"),
        ("[a b]", "at byte 3: expected `,` or `]` after a field, found `b`"),
        ("[a, (b) = 1]", "at byte 6: expected an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`) after `b`, found `)`"),
        ("[a, b = 1 || c = 2]", "at byte 13: expected `b` (a field's condition can only test that field), found `c`"),
        ("[a, 4* = 1]", "at byte 4: expected a field name (letters, digits, `_`, `-`), `...` or `(`, found `4*`"),
        ("[a, b < x]", "at byte 8: expected a number after `<`, found `x`"),
        ("[a] b", "at byte 4: expected end of pattern, found `b`"),
        ("ERROR \"abc", "at byte 6: unterminated string: expected a closing `\"`, found end of pattern"),
        ("? ERROR", "at byte 1: expected a term right after `?`, found whitespace"),
        ("ERROR -", "at byte 7: expected a term right after `-`, found end of pattern"),
        ("ERROR - ", "at byte 7: expected a term right after `-`, found whitespace"),
        ("ERROR - ?x", "at byte 8: expected a term, found `?`"),
        ("[a, , b", "at byte 7: expected `,` or `]` after a field, found end of pattern"),
        ("[,", "at byte 2: expected a field name (letters, digits, `_`, `-`), `...` or `(`, found end of pattern"),
        ("%ab", "at byte 0: unterminated regular expression: expected a closing `%`, found end of pattern"),
    ];
    for &(pattern, want) in cases {
        match parse(pattern) {
            Ok(_) => panic!("{pattern:?} parsed, expected {want:?}"),
            Err(err) => assert_eq!(err.to_string(), want, "{pattern:?}"),
        }
    }
}

#[test]
fn regex_errors() {
    let err = parse("{ $.eventName = %Delete(Bucket% }").unwrap_err();
    assert_eq!(err.offset, 16);
    assert!(
        err.message
            .starts_with("expected a valid regular expression, found `%Delete(Bucket%`: "),
        "{err}"
    );
    let err = parse("%a{1000}{1000}%").unwrap_err();
    assert_eq!(err.offset, 0, "{err}");
    assert!(err.message.contains("regular expression"), "{err}");
    parse("{ $.a = %x% || $.b = %y% }").unwrap();
    let err = parse("{ $.a = %x% || $.b = %y% || $.c = %z% }").unwrap_err();
    assert_eq!(err.offset, 34, "{err}");
    assert!(
        err.message.contains("at most 2 regular expressions"),
        "{err}"
    );
}

#[test]
fn length_limit() {
    assert!(parse(&"a".repeat(1024)).is_ok());
    let err = parse(&"a".repeat(1025)).unwrap_err();
    assert_eq!(err.offset, 1024);
    assert_eq!(
        err.message,
        "expected a pattern of at most 1024 characters, found 1025 characters"
    );
    // Counted in characters: 1024 two-byte characters fit.
    assert!(parse(&"é".repeat(1024)).is_ok());
    assert_eq!(parse(&"é".repeat(1025)).unwrap_err().offset, 2048);
    let tight = PatternLimits {
        max_pattern_len: 5,
        ..PatternLimits::default()
    };
    assert!(parse_with("{ $.a = 1 }", &tight).is_err());
    assert!(parse_with("ERROR", &tight).is_ok());
}

fn nested_json(depth: usize) -> String {
    format!("{{{}$.a = 1{}}}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn depth_limit() {
    assert!(parse(&nested_json(32))
        .unwrap()
        .matches(&LogEvent::new("{\"a\":1}")));
    let err = parse(&nested_json(33)).unwrap_err();
    assert_eq!(err.offset, 33);
    assert_eq!(
        err.message,
        "expected parentheses nested at most 32 deep, found deeper nesting"
    );
    // Unclosed nesting fails on depth, not on the missing `)`.
    assert_eq!(
        parse(&format!("{{{}", "(".repeat(1000)))
            .unwrap_err()
            .offset,
        33
    );
    let delimited = format!("[{}a = 1{}]", "(".repeat(33), ")".repeat(33));
    assert_eq!(parse(&delimited).unwrap_err().offset, 33);
    // A caller asking for absurd limits still gets an error, not a stack overflow.
    let loose = PatternLimits {
        max_pattern_len: 1_000_000,
        max_depth: usize::MAX,
    };
    let err = parse_with(&nested_json(100_000), &loose).unwrap_err();
    assert_eq!(err.offset, 257);
    assert!(parse_with(&nested_json(256), &loose).is_ok());
    // Nesting that survives as real tree depth (each level is an `&&` node) evaluates, clones
    // and drops at the hard limit without exhausting the test thread's stack.
    let mut deep = "$.a = 1".to_owned();
    for _ in 0..128 {
        deep = format!("(({deep}) && $.b = 2 || $.c = 3)");
    }
    let deep = parse_with(&format!("{{{deep}}}"), &loose).unwrap();
    let copy = deep.clone();
    assert!(copy.matches(&LogEvent::new("{\"a\":1,\"b\":2}")));
    assert!(!deep.matches(&LogEvent::new("{\"a\":1}")));
    drop((deep, copy));
    let shallow = PatternLimits {
        max_depth: 0,
        ..PatternLimits::default()
    };
    assert!(parse_with("{ $.a = 1 && $.b = 2 || $.c = 3 }", &shallow).is_ok());
    assert_eq!(parse_with("{ ($.a = 1) }", &shallow).unwrap_err().offset, 2);
}

#[test]
fn api_surface() {
    let p = parse("{ $.a = 1 }").unwrap();
    assert_eq!(p.source(), "{ $.a = 1 }");
    let copy = p.clone();
    assert!(copy.matches(&LogEvent::from_json(json!({"a": 1}))));
    assert_eq!(
        PatternLimits::default(),
        PatternLimits {
            max_pattern_len: 1024,
            max_depth: 32
        }
    );
    let e = LogEvent::from_json(json!({"b": [1, "x"], "a": null}));
    assert_eq!(e.text(), r#"{"a":null,"b":[1,"x"]}"#);
    assert!(e.json().is_some());
    assert!(LogEvent::new("nope").json().is_none());
}

#[test]
fn deep_event_json_is_safe() {
    let mut value = json!(1);
    for _ in 0..200 {
        value = json!([value]);
    }
    let e = LogEvent::from_json(value);
    assert_eq!(e.text(), "");
    check("{ $[0][0][0] NOT EXISTS }", &e, false);
    check("{ $[0][0][0][0] = 5 }", &e, false);
    // Parsing hostile text is bounded by serde_json's recursion limit.
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = LogEvent::new(text);
    assert!(e.json().is_none());
    check("{ $[0] NOT EXISTS }", &e, false);
}

#[test]
fn hostile_evaluation_stays_fast() {
    let text = "a".repeat(50_000);
    let glob = format!("{{ $.s = \"{}b\" }}", "a*".repeat(300));
    check(&glob, &LogEvent::from_json(json!({ "s": text })), false);
    let fields = "x ".repeat(20_000);
    let many = format!("[{}z = y]", "..., x = x, ".repeat(60));
    check(&many, &LogEvent::new(fields), false);
    let terms = format!("{} ZZZ", "a".repeat(900));
    check(&terms, &LogEvent::new("a".repeat(100_000)), false);
}

// ---- robustness --------------------------------------------------------------------------

const SEEDS: &[&str] = &[
    "",
    "ERROR",
    "ERROR -Exiting",
    "?ERROR ?WARN",
    "?ERROR -\"Exit now\" ?%WA[RN]+%",
    "\"exact \\\"phrase\\\" \\\\\"",
    "{ $.a = 1 }",
    "{ $.a.b[0][1].c != \"x*y\" }",
    "{ ($.a = 1) && ($.b = 2) }",
    "{ $.a = 1 || $.b = 2 && $.c = 3 }",
    "{ $.a IS NULL || $.b NOT EXISTS || $.c IS TRUE || $.d IS FALSE }",
    "{ $.a < 1 && $.b <= -1.5 && $.c > 1e3 && $.d >= 0 }",
    "{ $.eventName = %Delete.*Bucket% }",
    "{ $.x = true || $.y = null || $.z = arn:aws:iam::123:root }",
    "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }",
    "{($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress!=\"delivery.logs.amazonaws.com\") && ($.eventName!=\"HeadBucket\")}",
    "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
    "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "{ ($.eventName = RunInstances) && (($.requestParameters.instanceType = *.8xlarge) || ($.requestParameters.instanceType = *.4xlarge)) }",
    "{ $.@type = x && $.aws:arn = y && $.user-name = z }",
    "[ip, user, username, timestamp, request, status_code, bytes]",
    "[ip, user, ..., status_code = 4*, size > 1000]",
    "[..., status_code = 4* || status_code = 5*, bytes]",
    "[..., (code = 4* || code = %5..%) && code != 404, ...]",
    "[w1 = ERROR, w2 = \"a b\", ...]",
    "{ ((((($.a = 1))))) }",
    "[a, ..., b, ..., c]",
    "{ $.é = \"ü*\" }",
    "%^\\[ERROR%",
    "{ $.a != \"\" && $.b = \"\\\\\" }",
    "{ $.latency > +1000 || $.n = +1.5E-3 || $.x = * }",
    "[..., request=*.html*, status_code=4*,]",
    "[a, , b = Ev*ent, , ...]",
    "\"ERROR\" - \"Exiting\"",
];

fn events() -> Vec<LogEvent> {
    vec![
        LogEvent::new(""),
        LogEvent::new("127.0.0.1 - frank [10/Oct/2000] \"GET / HTTP/1.0\" 404 1534"),
        LogEvent::new("[ERROR] Exiting WARN \"q\" é"),
        LogEvent::from_json(json!({
            "a": 1, "b": [[0, {"c": "x-y"}]], "c": null, "d": false, "eventName": "DeleteBucket",
            "errorCode": "AccessDenied", "userIdentity": {"type": "Root"}, "é": "üx"
        })),
    ]
}

/// Parses `pattern` and, if it parses, evaluates it, also as a metric filter with several metric
/// values; the pattern text is tried as a metric value too. Any panic fails the test.
fn exercise(pattern: &str, events: &[LogEvent]) {
    let values: Vec<MetricValue> = [
        "1",
        "$.a",
        "$.b[0][1].c",
        "$ip",
        "$2",
        "$99999999999999999999",
    ]
    .iter()
    .filter_map(|v| MetricValue::parse(v).ok())
    .chain(MetricValue::parse(pattern).ok())
    .collect();
    if let Ok(p) = parse(pattern) {
        for e in events {
            let matched = p.matches(e);
            for v in &values {
                assert_eq!(
                    p.emission(v, e) != Emission::NotMatched,
                    matched,
                    "{pattern:?}"
                );
            }
        }
    }
}

#[test]
fn mutated_patterns_never_panic() {
    let events = events();
    for seed in SEEDS {
        let bytes = seed.as_bytes();
        for end in 0..=bytes.len() {
            if let Some(prefix) = seed.get(..end) {
                exercise(prefix, &events);
            }
        }
        for skip in 0..bytes.len() {
            let mut mutated = bytes.to_vec();
            mutated.remove(skip);
            exercise(&String::from_utf8_lossy(&mutated), &events);
        }
        for at in 0..bytes.len() {
            for b in [
                b'(', b')', b'"', b'%', b'*', b'[', b']', b'$', b'\\', b' ', b'.', b'-',
            ] {
                let mut mutated = bytes.to_vec();
                if let Some(slot) = mutated.get_mut(at) {
                    *slot = b;
                }
                exercise(&String::from_utf8_lossy(&mutated), &events);
            }
        }
    }
}

#[test]
fn random_patterns_never_panic() {
    let events = events();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        // Knuth's MMIX LCG; the high bits are the well-mixed ones.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    const ALPHABET: &[&str] = &[
        "{", "}", "(", ")", "[", "]", ",", "&&", "||", "&", "|", "=", "!=", "<", "<=", ">", ">=",
        "\"", "\\", "%", "*", "$", "$.a", ".", "[0]", "...", "?", "-", " ", "IS", "NULL", "NOT",
        "EXISTS", "TRUE", "1", "-1.5", "1e3", "+1", "+", "x", "é", "\u{0}", "\n", "$7", "$x",
    ];
    for _ in 0..4000 {
        let len = next() % 40;
        let pattern: String = (0..len)
            .map(|_| ALPHABET.get(next() % ALPHABET.len()).copied().unwrap_or(""))
            .collect();
        exercise(&pattern, &events);
        let json_like = format!("{{ {pattern} }}");
        exercise(&json_like, &events);
    }
    for _ in 0..2000 {
        let len = next() % 64;
        let raw: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        exercise(&String::from_utf8_lossy(&raw), &events);
    }
}

/// A chain of exact equalities on one selector is lowered to one set lookup, and matches exactly
/// as the chain: strings only, wildcards and other selectors left as they were.
#[test]
fn or_chains_of_exact_values_match_as_written() {
    let long = "l".repeat(70);
    let pattern = &format!(r#"{{ $.a = "x" || ($.a = y) || $.b = 1 || $.a = "z*" || $.c.d = "p" || $.c.d = "q" || $.a = "long value" || $.a = "{long}" }}"#);
    let parsed = parse(pattern).unwrap();
    let ast::Pattern::Json(ast::JsonExpr::Or(items)) = &parsed.pattern else { panic!("{:?}", parsed.pattern) };
    assert_eq!(items.iter().filter(|i| matches!(i, ast::JsonExpr::AnyOf { .. })).count(), 2, "{items:?}");
    for (event, want) in [
        (r#"{"a":"x"}"#, true),
        (r#"{"a":"y"}"#, true),
        (r#"{"a":"zed"}"#, true),
        (r#"{"a":"w"}"#, false),
        (r#"{"a":"X"}"#, false),
        (r#"{"a":"long value"}"#, true),
        (r#"{"a":"long valuf"}"#, false),
        (&format!(r#"{{"a":"{long}"}}"#), true),
        (&format!(r#"{{"a":"{long}l"}}"#), false),
        (&format!(r#"{{"a":"{}"}}"#, "l".repeat(63)), false),
        (r#"{"a":1}"#, false),
        (r#"{"a":["x"]}"#, false),
        (r#"{"a":null}"#, false),
        (r#"{"b":1}"#, true),
        (r#"{"c":{"d":"q"}}"#, true),
        (r#"{"c":{"d":"r"}}"#, false),
        (r#"{}"#, false),
    ] {
        check(pattern, &LogEvent::new(event), want);
    }
}
