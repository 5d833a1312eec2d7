"""The shipped prompt suites, the prompt-file reader and Adam's Law sentence frequency."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
import wordfreq
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from homogeny.errors import HomogenyError, PromptFileError
from homogeny.suites import catalog
from homogeny.suites.files import read_pairs, read_prompt_file
from homogeny.suites.frequency import (
    NLTK_ENGLISH_STOPWORDS,
    UNKNOWN_WORD_FREQUENCY,
    content_words,
    log_frequency,
    rewrite_to_frequent,
    sentence_frequency,
    synonym_table,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

MINIMUM_SIZES = {
    "paraphrase_families": 40 * 6,
    "open_ended": 100,
    "personas": 20,
    "judging_items": 30,
    "synthetic_tasks": 12,
    "math_word_problems": 40,
    "factual_qa": 40,
    "near_misses": 22,
}

# ---------------------------------------------------------------- suite content


def test_every_suite_is_shipped_with_at_least_its_promised_size() -> None:
    sizes = catalog.suite_sizes()
    assert set(sizes) == set(MINIMUM_SIZES)
    for name, minimum in MINIMUM_SIZES.items():
        assert sizes[name] >= minimum, name


def test_suite_files_are_one_json_object_per_line_without_header() -> None:
    data = Path(catalog.__file__).parent / "data"
    for name in MINIMUM_SIZES:
        lines = (data / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert all(line.strip() for line in lines), name
        assert all(isinstance(json.loads(line), dict) for line in lines), name
        assert "version" not in json.loads(lines[0]), name


def test_unknown_suite_names_the_closest_one() -> None:
    with pytest.raises(HomogenyError, match="did you mean 'personas'"):
        catalog.load_suite("persona")


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and value.strip() == value and value != ""


def test_paraphrase_families_have_six_distinct_phrasings_and_a_schema() -> None:
    rows = catalog.load_suite("paraphrase_families")
    families: dict[str, list[dict]] = {}
    for row in rows:
        families.setdefault(row["family"], []).append(row)
        assert row["kind"] in ("open", "checkable")
        expected = {"family", "phrasing", "prompt", "kind", "category"}
        if row["kind"] == "checkable":
            expected |= {"answer", "answer_aliases"}
            assert _nonempty_str(row["answer"])
            assert all(_nonempty_str(a) for a in row["answer_aliases"])
        assert set(row) == expected
        assert _nonempty_str(row["prompt"]) and _nonempty_str(row["category"])
    assert len(families) >= 40
    for name, group in families.items():
        assert [r["phrasing"] for r in group] == list(range(6)), name
        assert len({r["prompt"] for r in group}) == 6, name
        assert len({(r["kind"], r.get("answer"), r["category"]) for r in group}) == 1, name
    checkable = sum(g[0]["kind"] == "checkable" for g in families.values())
    assert 0.4 <= checkable / len(families) <= 0.6


def test_paraphrase_phrasings_run_from_rare_to_common_wording() -> None:
    rhos = []
    for name, group in catalog.paraphrase_families().items():
        scores = [log_frequency(p.text) for p in group]
        assert scores[5] > scores[0], name
        rhos.append(spearmanr(range(6), scores).statistic)
    assert sum(rhos) / len(rhos) > 0.6


def test_open_ended_personas_and_qa_suites_have_their_fields() -> None:
    schemas = {
        "open_ended": {"id", "category", "prompt"},
        "personas": {"id", "persona", "tags"},
        "math_word_problems": {"id", "question", "answer"},
        "factual_qa": {"id", "question", "answer", "aliases"},
    }
    for name, fields in schemas.items():
        rows = catalog.load_suite(name)
        assert all(set(r) == fields for r in rows), name
        assert len({r["id"] for r in rows}) == len(rows), name
    assert len({r["category"] for r in catalog.load_suite("open_ended")}) >= 7
    for row in catalog.load_suite("personas"):
        assert row["persona"].startswith("I am ") and row["persona"].endswith(".")
        assert row["tags"] and all(_nonempty_str(t) for t in row["tags"])
    for row in catalog.load_suite("math_word_problems"):
        assert type(row["answer"]) is int and row["question"].endswith("?")
    for row in catalog.load_suite("factual_qa"):
        assert _nonempty_str(row["answer"]) and all(_nonempty_str(a) for a in row["aliases"])


def test_judging_items_have_five_candidates_and_exactly_one_correct_letter() -> None:
    rows = catalog.load_suite("judging_items")
    for row in rows:
        assert set(row) == {"id", "question", "candidates", "correct", "domain"}
        assert len(row["candidates"]) == 5 and len(set(row["candidates"])) == 5, row["id"]
        assert row["correct"] in "ABCDE" and len(row["correct"]) == 1
    letters = Counter(r["correct"] for r in rows)
    assert set(letters) == set("ABCDE")
    assert max(letters.values()) - min(letters.values()) <= 1


def test_judging_prompt_lists_candidates_under_their_letters() -> None:
    item = catalog.judging_items()[0]
    for letter, candidate in zip("ABCDE", item.meta["candidates"]):
        assert f"\n{letter}. {candidate}\n" in item.text + "\n"
    assert "Best Response: [[X]]" in item.text


def test_function_tasks_carry_fixed_integer_list_inputs() -> None:
    rows = catalog.load_suite("synthetic_tasks")
    assert {r["kind"] for r in rows} == {"review", "function", "other"}
    for row in rows:
        if row["kind"] == "function":
            assert set(row) == {"id", "kind", "prompt", "inputs"}
            assert len(row["inputs"]) >= 5
            assert all(xs and all(type(x) is int for x in xs) for xs in row["inputs"])
        else:
            assert set(row) == {"id", "kind", "prompt"}
    assert len(catalog.synthetic_task_prompts(kind="function")) >= 5


def test_quick_subsets_are_small_deterministic_and_mixed() -> None:
    quick = catalog.paraphrase_prompts(quick=True)
    assert len(quick) == 6 * 6 and quick == catalog.paraphrase_prompts(quick=True)
    assert {p.meta["kind"] for p in quick} == {"open", "checkable"}
    opened = catalog.open_ended_prompts(quick=True)
    assert len(opened) == 12 and len({p.meta["category"] for p in opened}) >= 10
    assert len(catalog.open_ended_prompts()) == catalog.suite_sizes()["open_ended"]


def test_prompts_carry_suite_and_version_and_unique_ids() -> None:
    builders = [
        catalog.paraphrase_prompts,
        catalog.open_ended_prompts,
        catalog.personas,
        catalog.judging_items,
        catalog.synthetic_task_prompts,
        catalog.math_problem_prompts,
        catalog.factual_qa_prompts,
    ]
    for build in builders:
        prompts = build()
        assert len({p.id for p in prompts}) == len(prompts)
        assert all(p.meta["suites_version"] == catalog.SUITES_VERSION for p in prompts)
    checkable = [p for p in catalog.paraphrase_prompts() if p.meta["kind"] == "checkable"]
    assert checkable[0].meta["answer"] == "12"


def test_persona_framing_prefixes_every_request_with_every_persona() -> None:
    requests = catalog.open_ended_prompts(quick=True)[:2]
    people = catalog.personas(quick=True)[:3]
    framed = catalog.persona_prompts(requests, people)
    assert len(framed) == 6
    assert framed[0].text == f"{people[0].text} {requests[0].text}"
    assert framed[0].meta["persona"] == people[0].id and framed[0].meta["request"] == requests[0].id


# ---------------------------------------------------------------- sentence frequency


def test_sentence_frequency_is_the_geometric_mean_over_content_words() -> None:
    expected = math.sqrt(
        wordfreq.word_frequency("cats", "en") * wordfreq.word_frequency("sleep", "en")
    )
    assert sentence_frequency("Cats sleep.") == pytest.approx(expected, rel=1e-12)
    # stopwords, digits and punctuation are removed before averaging (Lu et al.'s frequency.py)
    assert content_words("The 3 cats, they sleep!") == ["cats", "sleep"]
    assert sentence_frequency("The 3 cats, they sleep!") == sentence_frequency("Cats sleep.")


def test_content_words_match_the_papers_nltk_cleaning() -> None:
    """Lu et al.'s frequency.py: strip digits and punctuation, lowercase, NLTK-tokenise, drop
    stopwords. NLTK's Treebank tokenizer is word_tokenize's per-sentence step (punkt, the
    sentence splitter, needs a data download and sees one sentence once punctuation is gone)."""
    import re

    tokenizer = pytest.importorskip("nltk.tokenize").TreebankWordTokenizer()
    texts = [p.text for p in catalog.paraphrase_prompts()] + [
        "I cannot go, we're gonna wanna gimme lemme gotta 3.5 things—naïve café_bar!",
    ]
    for text in texts:
        cleaned = re.sub(r"[^\w\s]", "", re.sub(r"\d+", "", text)).lower()
        expected = [w for w in tokenizer.tokenize(cleaned) if w not in NLTK_ENGLISH_STOPWORDS]
        assert content_words(text) == expected, text


def test_identical_paraphrases_give_identical_frequency() -> None:
    text = "Explain what makes it rain."
    assert sentence_frequency(text) == sentence_frequency(text)
    assert sentence_frequency(text) == sentence_frequency("EXPLAIN what makes it rain!!")


def test_unknown_words_get_the_floor_and_empty_text_scores_zero() -> None:
    assert sentence_frequency("zqxjvbrk") == pytest.approx(UNKNOWN_WORD_FREQUENCY)
    assert sentence_frequency("What is it? 42") == 0.0
    assert log_frequency("") == -math.inf
    assert log_frequency("Cats sleep.") == pytest.approx(
        math.log(sentence_frequency("Cats sleep."))
    )


@pytest.mark.parametrize(
    ("rare", "common"),
    [
        ("Elucidate the etiology of precipitation.", "Why does it rain?"),
        ("Procure comestibles for the repast.", "Buy food for the meal."),
        ("Ascertain the quantity of offspring.", "Find the number of children."),
        ("Compose a succinct verse concerning felines.", "Write a short poem about cats."),
    ],
)
def test_common_wording_scores_higher_than_rare_wording(rare: str, common: str) -> None:
    assert sentence_frequency(common) > sentence_frequency(rare)


@pytest.mark.parametrize("dataset", ["gsm8k", "csqa"])
def test_adams_law_high_frequency_files_score_higher_on_most_pairs(dataset: str) -> None:
    folder = SHARED_DATA / "adams-law"
    if not folder.is_dir():
        pytest.skip("../shared/data/adams-law is absent")
    pairs = read_pairs(
        folder / f"{dataset}-lowfrequency.txt", folder / f"{dataset}-highfrequency.txt"
    )
    higher = sum(log_frequency(high) > log_frequency(low) for low, high in pairs)
    assert higher / len(pairs) > 0.55


# ---------------------------------------------------------------- frequency-ward rewriting


def test_synonym_table_maps_rare_content_words_to_more_frequent_ones() -> None:
    table = synonym_table()
    assert len(table) >= 200
    for rare, common in table.items():
        assert rare.isalpha() and common.isalpha() and rare.islower() and common.islower()
        assert rare not in NLTK_ENGLISH_STOPWORDS and common not in NLTK_ENGLISH_STOPWORDS
        assert wordfreq.word_frequency(common, "en") > wordfreq.word_frequency(rare, "en"), rare


def test_rewriting_replaces_rare_words_and_keeps_case() -> None:
    assert (
        rewrite_to_frequent("Elucidate the etiology of precipitation.")
        == "Explain the cause of rain."
    )
    assert rewrite_to_frequent("ELUCIDATE it, please") == "EXPLAIN it, please"
    assert rewrite_to_frequent("Why does it rain?") == "Why does it rain?"
    # compounds and contractions are left alone
    assert rewrite_to_frequent("a well-elucidated point") == "a well-elucidated point"


def test_rewriting_never_lowers_frequency_on_the_shipped_prompts() -> None:
    texts = [p.text for p in catalog.paraphrase_prompts()] + [
        p.text for p in catalog.open_ended_prompts()
    ]
    changed = 0
    for text in texts:
        rewritten = rewrite_to_frequent(text)
        assert log_frequency(rewritten) >= log_frequency(text), text
        changed += rewritten != text
    assert changed >= 40


_TABLE_WORDS = sorted(synonym_table())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_TABLE_WORDS).map(str.capitalize),
            st.sampled_from(_TABLE_WORDS),
            st.sampled_from(["the", "cat", "of", "42", "-", "well-", "it's", ",", "rain"]),
            st.text(alphabet="abcxyz '-.", max_size=6),
        ),
        max_size=12,
    )
)
def test_rewriting_never_lowers_frequency_on_any_text(parts: list[str]) -> None:
    text = " ".join(parts)
    assert log_frequency(rewrite_to_frequent(text)) >= log_frequency(text)


# ---------------------------------------------------------------- user prompt files


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_jsonl_prompt_file_reads_text_and_chat_prompts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "p.jsonl",
        '{"id": "a", "prompt": "Hello there", "answer": "x"}\n'
        "\n"
        '{"prompt": "No id here"}\n'
        '{"id": 7, "messages": [{"role": "system", "content": "Be brief."}, '
        '{"role": "user", "content": "Hi"}]}\n',
    )
    prompts = read_prompt_file(path)
    assert [p.id for p in prompts] == ["a", "line-3", "7"]
    assert prompts[0].text == "Hello there" and prompts[0].meta == {"answer": "x"}
    assert prompts[2].messages == (("system", "Be brief."), ("user", "Hi"))


def test_text_prompt_file_is_one_prompt_per_nonempty_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.txt", "\ufeffFirst prompt\r\n\r\n  Second prompt  \r\n")
    prompts = read_prompt_file(path)
    assert [(p.id, p.text) for p in prompts] == [
        ("line-1", "First prompt"),
        ("line-3", "Second prompt"),
    ]


def test_jsonl_is_detected_from_the_first_line_whatever_the_suffix(tmp_path: Path) -> None:
    path = _write(tmp_path, "prompts.txt", '\n{"prompt": "Hi"}\n')
    assert read_prompt_file(path)[0].text == "Hi"


BAD_JSONL = [
    ('{"prompt": "ok"}\n{"prompt": "ok2"}\n{"prompt": oops}\n', "line 3 is not valid JSON"),
    ('{"prompt": "ok"}\n["a list"]\n', "line 2 is a JSON list, not an object"),
    ('{"id": "a"}\n', "line 1 has neither 'prompt' nor 'messages'"),
    ('{"prompt": "x", "messages": []}\n', "line 1 has both"),
    ('{"prompt": 5}\n', "line 1: 'prompt' must be a string"),
    ('{"prompt": "   "}\n', "line 1: 'prompt' is empty"),
    ('{"id": [1], "prompt": "x"}\n', "line 1: 'id' must be"),
    ('{"messages": "hi"}\n', "line 1: 'messages' must be a non-empty list"),
    ('{"messages": [{"role": "user"}]}\n', "line 1: messages[0] must be an object"),
    (
        '{"messages": [{"role": "robot", "content": "hi"}]}\n',
        "line 1: messages[0] has role 'robot'",
    ),
    (
        '{"messages": [{"role": "system", "content": "hi"}]}\n',
        "line 1: 'messages' has no non-empty user",
    ),
    (
        '{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y"}\n{"id": "a", "prompt": "z"}\n',
        "line 3 repeats id 'a' first used on line 1",
    ),
    ("[\n", "line 1 is not valid JSON"),
]


@pytest.mark.parametrize(("content", "message"), BAD_JSONL)
def test_malformed_jsonl_lines_are_named_by_number(
    tmp_path: Path, content: str, message: str
) -> None:
    path = _write(tmp_path, "bad.jsonl", content)
    with pytest.raises(PromptFileError) as caught:
        read_prompt_file(path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "", "holds no prompts"),
        ("blank.jsonl", "\n  \n", "holds no prompts"),
        ("binary.txt", b"hello\nwor\x00ld\n", "line 2 holds a NUL byte"),
        ("latin1.txt", "ok\ncaf\u00e9\n".encode("latin-1"), "line 2 is not valid UTF-8"),
        ("long.txt", "short\n" + "x" * 1_000_001 + "\n", "line 2 is longer than 1 MB"),
    ],
)
def test_unreadable_files_say_what_is_wrong(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(PromptFileError, match=message):
        read_prompt_file(path)


def test_missing_file_and_directory_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match="no such file"):
        read_prompt_file(tmp_path / "nope.jsonl")
    with pytest.raises(PromptFileError, match="is a directory"):
        read_prompt_file(tmp_path)


def test_read_pairs_aligns_low_and_high_frequency_lines(tmp_path: Path) -> None:
    low = _write(tmp_path, "low.txt", "Ascertain the sum.\nProcure sustenance.\n")
    high = _write(tmp_path, "high.txt", "Find the sum.\nGet food.\n")
    assert read_pairs(low, high) == [
        ("Ascertain the sum.", "Find the sum."),
        ("Procure sustenance.", "Get food."),
    ]


def test_read_pairs_rejects_files_of_different_length(tmp_path: Path) -> None:
    low = _write(tmp_path, "low.txt", "a\nb\nc\n")
    high = _write(tmp_path, "high.txt", "a\nb\n")
    with pytest.raises(PromptFileError, match="has 3 lines but .* has 2"):
        read_pairs(low, high)
    gap = _write(tmp_path, "gap.txt", "a\n\nc\n")
    with pytest.raises(PromptFileError, match="line 2 is empty"):
        read_pairs(low, gap)
