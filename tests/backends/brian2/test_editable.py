"""A lab edits the parameters of the returned Brian2 objects and runs again (issue 12).

Every parameter of :data:`lif_bridge_brian2.equations.PARAMETERS` and the synaptic weights:
after the edit the counts equal the reference's for the edited description, and differ from
the unedited run (the edit took effect). Edits that cannot be honoured are refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lif_bridge.backend import simulate
from lif_bridge.errors import BackendError
from lif_bridge.network import Dense, Network, Neurons, Readout, Simulation
from lif_bridge.testing import random_inputs, random_network

pytestmark = pytest.mark.brian2

SIM = Simulation(steps=40, dt=0.01, readout=Readout(counts="all"))


def _edit_neurons(net: Network, layer: int, **changes: Any) -> Network:
    layers = list(net.layers)
    lay = layers[layer]
    layers[layer] = dataclasses.replace(lay, neurons=lay.neurons.replace(**changes))  # type: ignore[arg-type, attr-defined]
    return Network(input_shape=net.input_shape, layers=tuple(layers), max_rate=net.max_rate)


def _scale_weight(net: Network, layer: int, factor: float) -> Network:
    layers = list(net.layers)
    lay = layers[layer]
    assert isinstance(lay, Dense)
    layers[layer] = dataclasses.replace(lay, weight=np.asarray(lay.weight) * factor)
    return Network(input_shape=net.input_shape, layers=tuple(layers), max_rate=net.max_rate)


def _base() -> Network:
    return random_network(0, "dense", reset="zero", per_neuron=True)


def _edits(
    nrn: Neurons,
) -> dict[str, tuple[Callable[[Any, Any], None], Callable[[Network], Network]]]:
    """name -> (edit of the Brian2 objects, the same edit of the description)."""
    import brian2 as b2

    c_m = np.asarray(nrn.c_m) * np.linspace(0.6, 1.4, 9)
    return {
        "g_l": (lambda g, s: setattr(g, "g_l", g.g_l[:] * 3),
                lambda n: _edit_neurons(n, 0, g_l=np.asarray(nrn.g_l) * 3)),
        "C_m": (lambda g, s: setattr(g, "C_m", c_m * b2.farad),
                lambda n: _edit_neurons(n, 0, c_m=c_m)),
        "v_th": (lambda g, s: setattr(g, "v_th", g.v_th[:] * 0.7),
                 lambda n: _edit_neurons(n, 0, v_th=np.asarray(nrn.v_th) * 0.7)),
        "v_rest": (lambda g, s: setattr(g, "v_rest", 0.2 * b2.volt),
                   lambda n: _edit_neurons(n, 0, v_rest=0.2)),
        "v_reset": (lambda g, s: setattr(g, "v_reset", 0.25 * b2.volt),
                    lambda n: _edit_neurons(n, 0, v_reset=0.25)),
        "I_bias": (lambda g, s: setattr(g, "I_bias", g.I_bias[:] + 3 * b2.amp),
                   lambda n: _edit_neurons(n, 0, i_bias=np.asarray(nrn.i_bias) + 3)),
        "t_ref": (lambda g, s: setattr(g, "t_ref", 0.03 * b2.second),
                  lambda n: _edit_neurons(n, 0, refractory=0.03)),
        "w": (lambda g, s: setattr(s, "w", s.w[:] * 1.5),
              lambda n: _scale_weight(n, 1, 1.5)),
    }  # fmt: skip


def test_each_edited_parameter_takes_effect_identical_to_reference() -> None:
    from lif_bridge_brian2 import InputRoute, describe, input_values, to_brian2

    net = _base()
    x = random_inputs(net, 2, seed=4)
    values = input_values(InputRoute.RATE, net, SIM, x, 0)
    b2net, lmap = to_brian2(net, SIM, samples=2, inputs=values)
    text = describe(lmap)
    assert (
        "Parameters (edit them" in text and "C_m, g_l, I_bias, v_rest, v_th, v_reset, t_ref" in text
    )
    b2net.store("initial")
    group, syn = lmap.groups["dense0"], lmap.objects[lmap.synapses["dense1"][-1]]

    b2net.run(lmap.duration)
    unedited = lmap.spike_counts()
    want = simulate(net, x, SIM, "reference").counts
    for name in want:
        np.testing.assert_array_equal(unedited[name], want[name], err_msg=name)
    for param, (edit_b2, edit_desc) in _edits(net.layers[0].neurons).items():  # type: ignore[attr-defined]
        b2net.restore("initial")
        edit_b2(group, syn)
        b2net.run(lmap.duration)
        got = lmap.spike_counts()
        want = simulate(edit_desc(net), x, SIM, "reference").counts
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=f"{param}: {name}")
        assert any(not np.array_equal(got[k], unedited[k]) for k in got), f"{param} had no effect"


def test_edits_that_cannot_be_honoured_are_refused() -> None:
    import brian2 as b2
    from lif_bridge_brian2 import to_brian2

    b2net, lmap = to_brian2(_base(), SIM)
    b2net.store("initial")
    group = lmap.groups["dense0"]
    group.d_leak = 0.5
    with pytest.raises(Exception) as err:  # Brian2 wraps errors of before_run: see the cause
        b2net.run(lmap.duration)
    assert isinstance(err.value.__cause__, BackendError)
    assert "dense0.d_leak is derived from the parameters" in str(err.value.__cause__)
    b2net.restore("initial")
    b2net.run(lmap.duration)  # a restore brings parameters and constants back together
    group.t_ref = 0.01 * b2.second  # shared: one value, fine
    b2net.run(lmap.duration)


def test_standalone_parameter_from_an_expression_is_refused(tmp_path: Any) -> None:
    import brian2 as b2
    from brian2.devices.device import get_device
    from lif_bridge_brian2 import to_brian2

    b2.set_device("cpp_standalone", build_on_run=False, directory=str(tmp_path))
    try:
        b2net, lmap = to_brian2(_base(), SIM)
        lmap.groups["dense0"].g_l = "g_l * 2"
        with pytest.raises(Exception) as err:
            b2net.run(lmap.duration)
        assert isinstance(err.value.__cause__, BackendError)
        assert "dense0.g_l was set from a string expression" in str(err.value.__cause__)
    finally:
        get_device().reinit()
        b2.set_device("runtime")


def test_standalone_edits_of_w_and_c_m_reach_the_derived_jump(tmp_path: Any) -> None:
    """cpp_standalone: ``w`` edited by an expression and ``C_m`` by an array before the run;
    the synapses' derived ``jump = w*inv_C_m_post`` follows both (counts as the reference's for
    the edited description, and unlike the unedited ones)."""
    import brian2 as b2
    from brian2.devices.device import get_device
    from lif_bridge_brian2 import InputRoute, input_values, to_brian2
    from lif_bridge_brian2.toolchain import codegen_prefs

    net = _base()
    x = random_inputs(net, 2, seed=4)
    nrn = net.layers[0].neurons  # type: ignore[attr-defined]
    c_m = np.asarray(nrn.c_m) * np.linspace(0.6, 1.4, 9)
    edited = _scale_weight(_edit_neurons(net, 0, c_m=c_m), 1, 1.5)
    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        get_device().reinit()
        get_device().activate(build_on_run=False)
        values = input_values(InputRoute.RATE, net, SIM, x, 0)
        with codegen_prefs(None):
            b2net, lmap = to_brian2(net, SIM, samples=2, inputs=values)
            lmap.groups["dense0"].C_m = c_m * b2.farad
            lmap.objects[lmap.synapses["dense1"][-1]].w = "w * 1.5"
            b2net.run(lmap.duration)
            b2.device.build(directory=str(tmp_path), compile=True, run=True, with_output=False)
        got = lmap.spike_counts()
    finally:
        get_device().reinit()
        b2.set_device("runtime")
    want = simulate(edited, x, SIM, "reference").counts
    unedited = simulate(net, x, SIM, "reference").counts
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert any(not np.array_equal(want[k], unedited[k]) for k in want)
