"""The label table: for every metric id the experiments emit, a plain name, its unit, what 0
and the threshold mean, and a sentence a reader can quote. One entry per metric family (some
ids carry a model name, a layer or a variant, captured as {subject}); `labels` reads it."""

from __future__ import annotations

from typing import Any

from homogeny.report.label_table_protocols import SRT_LABELS

COSINE, SHARE, NATS, BITS = "cosine similarity", "share", "nats per token", "bits"
DIVERSITY = "diversity (1 − cosine)"
PER_DECADE = "per 10x parameters"


def _l(*args: Any, **kw: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """One entry: pattern, name, unit, what 0 means, sentence template; then threshold= (what
    the threshold means) and trained_here= (measured on models trained inside homogeny)."""
    return args, kw


# fmt: off
TABLE: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = (
    # C1: input flattening
    _l(
        r"near_miss_distinction_lost",
        "near-miss requests answered as their common anchor", "prompt pairs",
        "distinctions are kept as often as they are lost",
        "requests one word away from a common one got the common one's answer {effect} more often "
        "than their own (per pair: +1 lost, −1 kept)",
    ),
    _l(
        r"hidden - surface closeness (?P<subject>.+)|hidden_minus_surface_closeness_(?P<layer>\w+)",
        "paraphrase closeness inside the model minus in wording ({subject} {layer})",
        "closeness, chance-corrected",
        "paraphrases are as close inside the model as in their wording",
        "paraphrases of one request are {effect} closer inside {subject} than in their wording "
        "(chance-corrected)",
    ),
    _l(
        r"outputs within - between request|outputs_within_minus_between",
        "how much the request, not its wording, decides the output", COSINE,
        "outputs for paraphrases are no more alike than outputs for different requests",
        "outputs for paraphrases of one request are {effect} cosine more alike than outputs for "
        "different requests",
    ),
    _l(
        r"output - prompt closeness|output_minus_prompt_closeness",
        "outputs closer than the prompts that asked for them", "ROUGE-L, chance-corrected",
        "outputs keep the users' wording differences",
        "outputs are {effect} closer to each other than the paraphrased prompts were",
    ),
    _l(
        r"diversity lost, (?P<subject>.+)",
        "output diversity lost when requests are rewritten to common words ({subject})", DIVERSITY,
        "rewriting changes nothing",
        "rewriting requests toward common words ({subject}) made outputs {effect} less diverse (1 "
        "− cosine)",
    ),
    _l(
        r"frequency gain, (?P<subject>.+)|frequency_gain_model_rewriter",
        "word-frequency gain of rewritten requests ({subject})", "mean log word frequency",
        "the rewrite uses words as common as the original",
        "rewriting by {subject} raised requests' mean log word frequency by {effect}",
    ),
    _l(
        r"diversity_lost_beyond_input_(?P<what>\w+)",
        "output diversity lost beyond the requests' own, rewritten to common words ({what})",
        DIVERSITY,
        "outputs lose only the diversity their rewritten requests lost",
        "rewriting requests toward common words ({what}) cost outputs {effect} more diversity than"
        " it cost the requests",
    ),
    _l(
        r"NLL\(low\) - NLL\(high\) (?P<subject>.+)|nll_low_minus_high",
        "extra surprise of rare wording ({subject})", NATS,
        "rare and common wordings are equally easy for the model",
        "{subject} finds the rare wording {effect} nats per token harder than the common one",
    ),
    _l(
        r"accuracy\(high\) - accuracy\(low\) (?P<subject>.+)|accuracy_high_minus_low",
        "accuracy gain on common wording ({subject})", SHARE,
        "common and rare wordings are answered correctly equally often",
        "{subject} answers the common wording correctly {effect} more often (as a share of "
        "questions) than the rare one",
    ),
    # C2: RL format collapse (tiny models trained here)
    _l(
        r"dominant_share_gain_first_epoch",
        "growth of the leading format in the first RL epoch", SHARE,
        "the leading format's share did not grow",
        "in the first RL epoch the leading format's share grew by {effect} of the samples",
        trained_here=True,
    ),
    _l(
        r"epochs_until_90pct_format",
        "RL epochs until one format makes up 90% of samples", "epochs",
        "collapse before any training",
        "one format reached 90% of the samples after {effect} epochs of RL",
        threshold="1: collapse within the first epoch", trained_here=True,
    ),
    _l(
        r"pass_at_k_change",
        "change in coverage (pass@k) under RL", SHARE,
        "RL left coverage unchanged",
        "RL changed pass@k (the share of problems solved in k tries) by {effect}",
        trained_here=True,
    ),
    _l(
        r"majority_minus_pass_at_k_change",
        "majority-vote gain beyond coverage gain under RL", SHARE,
        "majority vote and coverage moved together",
        "under RL, majority@k gained {effect} more than pass@k",
        trained_here=True,
    ),
    _l(
        r"kl_minority_share_gain",
        "minority formats kept alive by a KL penalty", SHARE,
        "the KL penalty kept no more minority formats",
        "a KL penalty kept {effect} more of the samples in minority formats",
        trained_here=True,
    ),
    _l(
        r"winner_depends_on_size",
        "how much the winning format depends on model size", "agreement (0 to 1)",
        "the winner is as stable across sizes as across seeds",
        "the winning format agreed {effect} more between seeds of one size than between sizes",
        trained_here=True,
    ),
    _l(
        r"base_minus_instruct_format_entropy",
        "answer formats lost by instruct models (vs base)", BITS,
        "instruct models use as many answer formats as the base model",
        "instruct models' math answers carry {effect} bits less format variety than the base "
        "model's",
    ),
    # C3: size and concentration
    _l(
        r"distinct_per_draw_vs_size",
        "change in distinct samples per draw with model size", PER_DECADE,
        "size does not change how many distinct samples a draw gives",
        "each 10x in parameters changes the share of distinct samples per draw by {effect}",
    ),
    _l(
        r"effective_per_draw_vs_size",
        "change in distinct valid samples per draw with model size", PER_DECADE,
        "size does not change how many distinct valid samples a draw gives",
        "each 10x in parameters changes the share of distinct valid samples per draw by {effect}",
    ),
    _l(
        r"unique_per_100m_params_vs_size",
        "change in unique content per 100M parameters with size", PER_DECADE,
        "diversity per parameter does not depend on size",
        "each 10x in parameters changes distinct valid samples per 100M parameters by {effect}",
    ),
    _l(
        r"top1_mass_vs_size",
        "change in top-token probability with model size", PER_DECADE,
        "bigger models are no more concentrated",
        "each 10x in parameters changes the mean top-token probability by {effect}",
    ),
    _l(
        r"entropy_vs_size",
        "change in per-token entropy with model size", PER_DECADE,
        "bigger models are no more concentrated",
        "each 10x in parameters changes per-token entropy by {effect} nats",
    ),
    _l(
        r"same_family_distinct_per_draw",
        "distinct samples per draw, larger minus smaller model of one family", SHARE,
        "both sizes give as many distinct samples per draw",
        "the larger model of one family gives {effect} (share per draw) more distinct samples than"
        " the smaller",
    ),
    _l(
        r"same_family_top1_mass",
        "top-token probability, larger minus smaller model of one family", "probability",
        "both sizes are equally concentrated",
        "the larger model of one family puts {effect} more probability on its top token than the "
        "smaller",
    ),
    # C4: hivemind
    _l(
        r"inter_model_minus_random",
        "cross-model similarity above random pairs", COSINE,
        "answers from different models are no more alike than random answer pairs",
        "answers from different models to the same prompt are {effect} cosine more alike than "
        "random pairs",
    ),
    _l(
        r"model_minus_human_intra_similarity",
        "models' self-similarity above humans'", COSINE,
        "a model's answers to a prompt are as varied as people's",
        "a model's answers to one prompt are {effect} cosine more alike than people's answers "
        "to it",
    ),
    _l(
        r"hivemind_index",
        "hivemind index (other models' answers vs a model's own)", "ratio",
        "other models' answers share nothing",
        "other models' answers are {effect} as alike as a model's own resamples (1 = just as "
        "alike)",
        threshold="0.9: other models nearly as alike as a model's own answers",
    ),
    _l(
        r"share_intra_above_0[._]8(_top_p)?",
        "share of prompts where a model repeats itself (above 0.8 cosine)", SHARE,
        "no prompt gives near-identical samples",
        "for {effect} of (model, prompt) cases the samples average above 0.8 cosine",
        threshold="0.5: a majority of cases",
    ),
    _l(
        r"min_p_minus_top_p_intra_similarity",
        "self-similarity under min-p minus under top-p", COSINE,
        "min-p and top-p samples are equally alike",
        "min-p sampling changes a model's self-similarity by {effect} cosine against top-p",
    ),
    _l(
        r"persona_disguise_gap",
        "surface variety beyond substance across personas", "normalised diversity",
        "personas vary wording and meaning equally",
        "across personas, answers vary {effect} more in wording than in meaning",
    ),
    _l(
        r"persona_gap_minus_resampling_gap",
        "persona disguise gap beyond plain resampling", "normalised diversity",
        "personas add no more surface variety than resampling",
        "personas widen the wording-over-meaning gap by {effect} beyond plain resampling",
    ),
    *SRT_LABELS,  # C4 --protocol srt (label_table_protocols.py)
    # C5: internals
    _l(
        r"sweep_(?P<subject>asymmetry|extent|units|[A-Za-z]+)_sgd_minus_(?:search|handbuilt)",
        "weight-sweep {subject}, SGD network minus searched (or hand-built) network",
        "index (0 to 1)",
        "both networks react to a weight sweep alike",
        "a weight sweep changes the SGD network {effect} more ({subject}) than the other one",
        trained_here=True,
    ),
    _l(
        r"cppn_output_rmse",
        "pixel difference between the two networks' images", "RMSE",
        "identical pictures",
        "the SGD and searched networks' images differ by {effect} RMSE",
        threshold="0.15: the same picture to the eye", trained_here=True,
    ),
    _l(
        r"toy_lm_(?P<subject>cka|knn|[a-zX]+)_copy_minus_pair",
        "internal difference hidden behind identical outputs ({subject}, tiny models trained here)",
        "similarity",
        "same outputs, same insides",
        "at identical outputs, tiny models' internals differ by {effect} ({subject}) beyond a "
        "noised copy's",
        trained_here=True,
    ),
    _l(
        r"(?P<level>\w+?)_(?P<subject>cka|knn|[a-zX]+)_copy_minus_pair",
        "internal difference hidden behind identical outputs ({subject})", "similarity",
        "same outputs, same insides",
        "at identical outputs, the models' internals differ by {effect} ({subject}) beyond a "
        "noised copy's",
    ),
    # C6: reliability
    _l(
        r"omega_t1_above_random_floor",
        "judge's reliability at temperature 1 above a random judge's", "omega, scaled",
        "the judge is as reliable as one that picks at random",
        "at temperature 1 the judge's omega sits {effect} of the way from a random judge's to "
        "perfect agreement",
        threshold="0.5: half way to perfect agreement",
    ),
    _l(
        r"t1_majority_minus_t0_accuracy",
        "majority of temperature-1 verdicts right, minus the temperature-0 verdict", SHARE,
        "repeating one draw is right as often as the majority of many",
        "the majority of 100 temperature-1 verdicts is right on {effect} more of the questions "
        "than the one verdict temperature 0 repeats",
    ),
    _l(
        r"consistency_minus_accuracy_t0",
        "consistency beyond correctness at temperature 0", SHARE,
        "the judge is right as often as it is consistent",
        "at temperature 0 the judge is consistent on {effect} more of the questions than it gets "
        "right",
    ),
    _l(
        r"t1_mass_outside_t0_verdict",
        "temperature-1 probability the temperature-0 verdict leaves out", "probability",
        "temperature 0 repeats the only verdict the model gives",
        "temperature 0 hides {effect} of the verdict probability the model gives at temperature 1",
    ),
    _l(
        r"paper_table_max_abs_difference",
        "largest difference from the paper's reliability tables", "omega / alpha",
        "exact reproduction",
        "homogeny's omega and alpha differ from the paper's tables by at most {effect}",
        threshold="0.0001: reproduced to four decimals",
    ),
    # C7: anchors
    _l(
        r"toy_coverage_lost_per_round",
        "correct solution styles lost per round without an anchor ({subject})", "share per round",
        "no loss",
        "self-training ({subject}) loses {effect} of its coverage of correct solutions per round",
        trained_here=True,
    ),
    _l(
        r"toy_anchor_(?P<what>\w+)_saving",
        "{what} loss per round an external anchor saves ({subject})", "share per round",
        "the anchor loses as much as the unanchored loop",
        "the anchor ({subject}) loses {effect} less {what} per round than the unanchored loop",
        trained_here=True,
    ),
    _l(
        r"self_verification_shortfall",
        "accuracy lost by keeping the model's self-verified answers ({subject})", SHARE,
        "self-verified answers are as accurate as all answers",
        "the answers {subject} rates best itself are {effect} less accurate than all its answers",
    ),
    _l(
        r"toy_(?P<subject>\w+?)_coverage_lost_per_round",
        "correct solution styles lost per round without an anchor (filter: {subject})",
        "share per round",
        "no loss",
        "self-training with the {subject} filter loses {effect} of coverage per round",
        trained_here=True,
    ),
    _l(
        r"toy_(?P<subject>\w+?)_saves_(?P<what>coverage|pass_at_1|\w+)",
        "{what} loss per round saved by the {subject} anchor", "share per round",
        "the anchor loses as much as the unanchored loop",
        "the {subject} anchor loses {effect} less {what} per round than the unanchored loop",
        trained_here=True,
    ),
    _l(
        r"gv_gap_arithmetic_minus_factual(\[(?P<subject>.+)\])?",
        "generation–verification gap, arithmetic minus factual ({subject})", SHARE,
        "self-verification helps both kinds of question equally",
        "keeping {subject}'s best self-verified answers gains {effect} more accuracy on arithmetic"
        " than on facts",
    ),
    _l(
        r"refinement_similarity_self_minus_judged(\[(?P<subject>.+)\])?",
        "convergence of self-refinement without a judge ({subject})", COSINE,
        "a novelty judge changes nothing",
        "{subject}'s self-refinement answers are {effect} cosine more alike than with a novelty "
        "judge",
    ),
    # T: decomposition and counter-pressure
    _l(
        r"diversity recovered by the best counter-pressure",
        "output diversity the best counter-pressure wins back", DIVERSITY,
        "the counter-pressure recovers nothing",
        "the best counter-pressure made outputs {effect} more diverse (1 − cosine) than the "
        "default",
    ),
    _l(
        r"cross-(?P<subject>\w+) convergence above random pairs",
        "convergence across {subject}s above random pairs", COSINE,
        "answers to the same request are no more alike than random pairs",
        "answers to the same request from different {subject}s are {effect} cosine more alike than"
        " random pairs",
    ),
    _l(
        r"toy stage share: (?P<subject>.+)",
        "share of convergence from {subject} (tiny models trained here)", "character similarity",
        "this stage adds no convergence",
        "in tiny models trained here, {subject} accounts for {effect} of their cross-model "
        "similarity",
        trained_here=True,
    ),
    _l(
        r"stage share: (?P<subject>.+)",
        "share of convergence from the {subject} stage", COSINE,
        "this stage adds no convergence",
        "the {subject} stage adds {effect} cosine of cross-user similarity",
    ),
    # T (issue 16): fixed ids; the stage or counter-pressure is the row's subject
    _l(r"counter_pressure_diversity_gain", "diversity {subject} wins back at bounded cost",
       DIVERSITY, "no diversity recovered", "{subject}: outputs {effect} more diverse"),
    _l(r"best_counter_pressure_diversity_gain", "diversity the best counter-pressure wins back",
       DIVERSITY, "no diversity recovered", "{subject}: outputs {effect} more diverse"),
    _l(r"counter_pressure_accuracy_cost", "accuracy {subject} costs on closed tasks", SHARE,
       "no accuracy lost", "{subject}: {effect} fewer right answers per sample"),
    _l(r"convergence_above_random_pairs", "convergence ({subject}) above random pairs", COSINE,
       "no more alike than random pairs", "same-request answers {effect} cosine more alike"),
    _l(r"stage_shapley_value", "convergence the {subject} stage adds (same weights)", COSINE,
       "this stage adds no convergence", "switching {subject} on adds {effect} cosine"),
    _l(r"(toy_)?stage_gap_largest_minus_next", "largest stage minus the next ({subject})",
       COSINE, "no stage is clearly the largest", "the first adds {effect} more than the second"),
    _l(r"toy_stage_shapley_value", "convergence {subject} adds (tiny models trained here)",
       "character similarity", "this stage adds no convergence",
       "in tiny models trained here, {subject} adds {effect}", trained_here=True),
    _l(r"pretraining_level_(above_floor|vs_resampling)", "where convergence starts ({subject})",
       COSINE, "no different from the reference", "base-model answers sit {effect} cosine apart"),
    _l(r"format_role_markers_effect", "convergence role markers alone add", COSINE,
       "role markers change nothing", "a bare User:/Assistant: frame adds {effect} cosine"),
)
# fmt: on
