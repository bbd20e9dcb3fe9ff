"""An analyst edits a generated workbook (issue #15 item 5): for every option kind and mode, valid
edits made with openpyxl (mode, GPU, price term, an option on/off, a volume, a driver) are
recalculated by LibreOffice, and every output the workbook shows must equal `runrate read` of
the edited file + evaluate to 1e-9 relative, with the Checks sheet OK and no error cell on any
sheet (the deliberate #N/A chart gaps aside). Switching an option to capacity mode and naming a
catalog GPU, as the help text invites, looks its price, GPUs and throughput up on the Catalog
sheet; a name the Catalog does not have is a failing check, not a stale number.
"""

from __future__ import annotations

import math

import openpyxl
import pytest

from runrate_xl.api import evaluate_scenario
from runrate_xl.presets import preset_scenario
from runrate_xl.workbook import read_workbook, workbook_bytes

from .libreoffice import recalculate, soffice
from .test_workbook_libreoffice import ON_PREM_COMPOSITES, _cells, _edit, error_cells, failing_checks, first_escalates, mismatches
from .workbook_scenarios import ON_PREM

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]

CAPACITY_70B = {"in_self_hosted_mode": "capacity", "in_self_hosted_gpu": "aws-p5.48xlarge",
                "in_self_hosted_model": "llama-3.1-70b", "in_self_hosted_precision": "fp8"}
# file id: (base scenario, kinds and modes it covers, {defined name: new value})
EDITS = {
    "api-driver": ("seed004-startup", "api; self_hosted simple implied; fine_tuned switched on", {
        "in_volume_requests_per_month": 3_000_000, "in_api_retry_rate": 0.05,
        "in_api_hidden_review_share": 0.05, "in_api_hidden_cost_per_review": None, "in_api_hidden_review_minutes": 3,
        "in_api_hidden_reviewer_hourly_rate": 50, "in_fine_tuned_included": "Yes",
        "in_fine_tuned_input_price_per_1m": 0.3, "in_fine_tuned_output_price_per_1m": 1.2}),
    "ft-off-sh-implied": ("seed000-1m-inferences", "fine_tuned off; self_hosted implied at a stated volume", {
        "in_fine_tuned_included": "No", "in_self_hosted_utilization": 0.45,
        "in_self_hosted_utilization_at_tokens_per_day": 80_000_000, "in_volume_monthly_growth": 0.05}),
    "sh-unlimited": ("seed003-50m-80pct", "self_hosted simple unlimited (single box); implied to capacity mode", {
        "in_single_box_utilization": 0.6, "in_volume_tokens_per_day": 90_000_000, **CAPACITY_70B}),
    "sh-stated": ("seed003-500m-95pct", "self_hosted simple with a stated capacity", {
        "in_self_hosted_utilization": None, "in_self_hosted_capacity_tokens_per_day": 150_000_000,
        "in_horizon_months": 48}),
    "sh-gpu": ("capacity-growth", "self_hosted capacity: another GPU instance", {
        "in_self_hosted_gpu": "aws-g5.12xlarge", "in_volume_monthly_growth": 0.02}),
    "sh-term": ("capacity-growth", "self_hosted capacity: another GPU, model and a 1-year term", {
        "in_self_hosted_gpu": "gcp-a3-highgpu-8g", "in_self_hosted_model": "llama-3.1-70b",
        "in_self_hosted_precision": "fp8", "in_self_hosted_pricing_term": "1yr"}),
    "sh-spot": ("capacity-growth", "self_hosted capacity: spot with its interruption overhead", {
        "in_self_hosted_gpu": "gcp-a2-ultragpu-1g", "in_self_hosted_model": "llama-3.1-8b",
        "in_self_hosted_precision": "fp8", "in_self_hosted_pricing_term": "spot",
        "in_self_hosted_spot_interruption_overhead": 0.1, "in_self_hosted_concurrent_requests": 16}),
    "sh-nearest-mix": ("capacity-growth", "self_hosted capacity: a configuration published at ten request mixes", {
        "in_self_hosted_gpu": "aws-p5en.48xlarge", "in_self_hosted_model": "llama-3.3-70b",
        "in_self_hosted_precision": "fp8", "in_volume_input_share": 0.9}),
    "op-capacity": ("buy-vs-rent-8xh100", "on_prem sized from capacity; rented GPUs on another instance", {
        "in_volume_tokens_per_day": 400_000_000, "in_buy_pue": 1.3, "in_rent_gpu": "lambda-h100-8"}),
    "op-stated": ("on-prem-stated", "on_prem stated fleet", {
        "in_own_servers": 3, "in_own_utilization": 0.4, "in_api_hidden_observability_monthly": 2500}),
    # a composite's route and escalation share are inputs: an analyst prices another split (as routed)
    "mix-route": ("hybrid-frontier-hard-20pct", "mix of two API options, re-routed", {
        "in_hard_20_split": "as_routed", "in_hard_20_route_frontier": 0.35, "in_hard_20_route_mini": 0.65,
        "in_volume_requests_per_month": 3_000_000}),
    "mix-gpus": ("hybrid-selfhost-bulk-api-overflow", "mix with a capacity-mode self-hosted part at its share", {
        "in_bulk_overflow_split": "as_routed", "in_bulk_overflow_route_own_gpus": 0.6, "in_bulk_overflow_route_api": 0.4,
        "in_volume_tokens_per_day": 300_000_000}),
    "cascade-share": ("cascade-mini-escalate-15pct", "cascade with another escalation share and first option", {
        "in_escalate_15_escalation_share": 0.3, "in_mini_hidden_success_rate": 0.9, "in_mini_hidden_on_failure": "human",
        "in_mini_hidden_cost_per_review": 0.5}),
    # a cascade whose first escalates: the escalation share follows the first option's success rate and attempts
    "cascade-escalates": ("cascade-first-escalates", "cascade whose first option escalates: its success rate and attempts", {
        "in_mini_hidden_success_rate": 0.6, "in_mini_hidden_max_attempts": 3}),
    "cascade-escalate-on": ("cascade-mini-escalate-15pct", "cascade: the first option switched to escalate, the share left blank", {
        "in_escalate_15_escalation_share": None, "in_mini_hidden_on_failure": "escalate", "in_mini_hidden_success_rate": 0.75,
        "in_mini_hidden_cost_per_review": 1.0}),
    "op-gpu": ("buy-vs-rent-8xh100", "on_prem: another GPU type, its server price and power looked up on the Catalog sheet", {
        "in_buy_gpu_type": "A100-80GB", "in_volume_tokens_per_day": 200_000_000}),
    "mix-on-prem": ("mix-on-prem", "mix with an on-prem part buying its servers at its share", {
        "in_blend_route_own": 0.5, "in_blend_route_api": 0.3, "in_blend_route_rent": 0.2, "in_own_server_price": 90_000}),
}
UNKNOWN = ("capacity-growth", {"in_self_hosted_gpu": "aws-not-a-gpu"})
# a stated escalation share that is not the escalating first option's failed share (0.09)
BAD_SHARE = ("cascade-first-escalates", {"in_escalate_15_escalation_share": 0.15})


def _base(name: str):
    from runrate_xl.api import scenario_from_dict

    if name in ON_PREM:
        return scenario_from_dict(ON_PREM[name])
    if name in ON_PREM_COMPOSITES:
        return scenario_from_dict(ON_PREM_COMPOSITES[name])
    if name == "cascade-first-escalates":
        return first_escalates()
    return preset_scenario(name)


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    src = tmp_path_factory.mktemp("edits")
    jobs = {}
    for fid, (base, _what, changes) in list(EDITS.items()) + [("unknown-gpu", (UNKNOWN[0], "", UNKNOWN[1])),
                                                              ("bad-share", (BAD_SHARE[0], "", BAD_SHARE[1]))]:
        ev = evaluate_scenario(_base(base))
        path = src / f"{fid}.xlsx"
        path.write_bytes(workbook_bytes(ev))
        _edit(path, changes)
        jobs[fid] = (ev, path)
    outs = recalculate([p for _, p in jobs.values()], tmp_path_factory.mktemp("edits-recalculated"))
    return {fid: (ev, out) for (fid, (ev, _)), out in zip(jobs.items(), outs)}


def _value(path, name):
    return _cells(openpyxl.load_workbook(path, data_only=True), name)[0].value


@pytest.mark.parametrize("fid", list(EDITS))
def test_an_edited_workbook_agrees_with_runrate_read(edited, fid):
    _, path = edited[fid]
    ev = evaluate_scenario(read_workbook(path))
    n, bad = mismatches(ev, path)
    assert n > 900
    assert not bad, f"{fid}: {len(bad)} cells differ from runrate read + evaluate, e.g. {bad[:5]}"
    assert not failing_checks(path), fid
    assert not error_cells(path), f"{fid}: error cells {error_cells(path)[:10]}"
    assert _value(path, "cov_lowest_npv_now") == ev.scenario.label_of(ev.recommendation.cheapest_option)
    # the engine-written recommendation says it is as of generation, and what moved since
    assert _value(path, "chk_recommendation_current") == "CHANGED"
    assert _value(path, "chk_recommendation_changes").startswith("moved since generation: NPV of ")
    for o in ev.scenario.options_of("self_hosted"):  # what the Catalog sheet gave is what the catalog gives
        if o.mode == "capacity":
            for name, expected in ((f"c_{o.id}_hourly", o.instance_hourly_usd), (f"c_{o.id}_gpus_per_instance", o.gpus_per_instance),
                                   (f"c_{o.id}_tps_per_gpu", o.tokens_per_second_per_gpu)):
                assert math.isclose(_value(path, name.replace("-", "_")), expected, rel_tol=1e-9), (fid, name)


def test_the_edits_cover_every_kind_and_mode(edited):
    seen = set()
    for fid in EDITS:
        sc = read_workbook(edited[fid][1])
        for o in sc.options:
            if o.kind == "self_hosted":
                basis = ("capacity" if o.mode == "capacity" else "unlimited" if o.capacity_basis == "unlimited"
                         else "stated" if o.capacity_tokens_per_day is not None else "implied")
                seen.add(f"self_hosted {basis}")
            elif o.kind == "on_prem":
                seen.add(f"on_prem {'stated' if o.servers is not None else 'capacity'}")
            else:
                seen.add(o.kind)
    assert seen >= {"api", "fine_tuned", "self_hosted implied", "self_hosted unlimited", "self_hosted stated",
                    "self_hosted capacity", "on_prem stated", "on_prem capacity", "mix", "cascade"}


def test_a_re_routed_mix_and_escalation_share_are_read_back(edited):
    """`runrate read` reads the composite back from the workbook: the route and escalation share as edited."""
    mix = read_workbook(edited["mix-route"][1]).option("hard-20")
    assert (mix.split, mix.route) == ("as_routed", {"frontier": 0.35, "mini": 0.65})
    gpus = read_workbook(edited["mix-gpus"][1]).option("bulk-overflow")
    assert gpus.route == {"own-gpus": 0.6, "api": 0.4}
    assert read_workbook(edited["mix-on-prem"][1]).option("blend").route == {"own": 0.5, "api": 0.3, "rent": 0.2}
    cascade = read_workbook(edited["cascade-share"][1]).option("escalate-15")
    assert (cascade.first, cascade.then, cascade.escalation_share) == ("mini", "frontier", 0.3)


def test_the_escalation_share_follows_the_escalating_first_option(edited):
    """mini at 60% with three attempts fails (1 - 0.6)^3 = 6.4% after them: that share of the
    requests goes to the frontier model; switched to escalate at 75% (two attempts), 6.25%. The
    share cell stays blank (read back as left out), the engine derives the same."""
    for fid, share in (("cascade-escalates", 0.4 ** 3), ("cascade-escalate-on", 0.25 ** 2)):
        _, path = edited[fid]
        sc = read_workbook(path)
        assert sc.option("escalate-15").escalation_share is None and sc.option("mini").hidden.on_failure == "escalate"
        assert _value(path, "c_escalate_15_escalation") == pytest.approx(share, rel=1e-12)
        assert evaluate_scenario(sc).options["escalate-15"].details["frontier.share"] == pytest.approx(share, rel=1e-12)


def test_a_stated_share_that_is_not_the_escalating_first_options_is_a_failing_check(edited):
    """The engine refuses a stated escalation share that differs from the escalating first option's
    failed share; the workbook says so on Checks (the master check is not OK), and `runrate read`
    names the field."""
    from runrate_xl.workbook import WorkbookError

    _, path = edited["bad-share"]
    failing = [label for label, _ in failing_checks(path)]
    assert failing == ["escalate-15: an escalation share is stated, unless the first option escalates its failures (then it is "
                       "that option's failed share, (1 - success rate)^attempts, and a stated share must equal it)", "master"]
    with pytest.raises(WorkbookError, match=r"escalate-15.escalation_share: got 0.15, expected mini's failed share 0.09"):
        read_workbook(path)


def test_switching_to_capacity_mode_and_naming_a_gpu_prices_it(edited):
    """The issue's case: simple -> capacity with a catalog GPU recalculates (no #DIV/0!), and a
    different GPU changes the instance price and the instance count."""
    ev, path = edited["sh-unlimited"]
    assert _value(path, "c_self_hosted_hourly") == pytest.approx(55.04)
    assert isinstance(_value(path, "c_self_hosted_instances"), (int, float))
    base, moved = edited["sh-gpu"]
    before, after = base.options["self_hosted"].details, evaluate_scenario(read_workbook(moved)).options["self_hosted"].details
    assert _value(moved, "c_self_hosted_hourly") == pytest.approx(5.672) != base.scenario.option("self_hosted").instance_hourly_usd
    assert (_value(moved, "c_self_hosted_instances"), _value(moved, "c_self_hosted_gpus")) == (after["instances"], after["gpus"])
    assert after["gpus"] != before["gpus"]


def test_an_unknown_gpu_is_a_failing_check_not_a_stale_price(edited):
    _, path = edited["unknown-gpu"]
    failing = [label for label, _ in failing_checks(path)]
    assert any("GPU instance named is on the Catalog sheet" in label for label in failing), failing
    assert _value(path, "c_self_hosted_hourly") in (None, "")  # not the old instance's price


def test_an_on_prem_gpu_change_looks_its_server_price_and_power_up(edited):
    """8x H100 -> 8x A100-80GB on an on-prem option whose price and power came from the catalog:
    the Catalog sheet's server ($160,000, was $285,000) and board power (400 W, was 700 W) follow."""
    base, moved = edited["op-gpu"]
    assert base.scenario.option("buy").server_price == 285_000 and base.scenario.option("buy").gpu_tdp_watts == 700
    assert (_value(moved, "c_buy_server_price"), _value(moved, "c_buy_tdp")) == (160_000, 400)
    assert _value(moved, "in_buy_server_price") is None  # left blank at generation: the catalog's figure
    resolved = evaluate_scenario(read_workbook(moved)).scenario.option("buy")
    assert (resolved.server_price, resolved.gpu_tdp_watts) == (160_000, 400)


def test_the_catalog_sheet_takes_the_published_mix_nearest_yours(edited):
    """TensorRT-LLM publishes Llama 3.3 70B FP8 on one H200 at ten request mixes. At 4,000-token
    requests with 90% input (3,600 in / 400 out) the nearest is 5,000/500 (distance 0.157; 2,048/128:
    1.62): 566 out tok/s / 500 x 5,500 tokens = 6,226 tokens/s per GPU (p5en: 8 replicas of 1x H200)."""
    _, path = edited["sh-nearest-mix"]
    assert _value(path, "c_self_hosted_tps_per_gpu") == pytest.approx(566 / 500 * 5500, rel=1e-12)
    assert "5000 in / 500 out" in evaluate_scenario(read_workbook(path)).scenario.option("self_hosted").throughput_source
