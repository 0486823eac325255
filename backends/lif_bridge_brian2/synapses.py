r"""The synapses into one population: one ``Synapses`` per incoming projection (edge).

Each edge of a population (a chain has one; a graph any number, summed in phase C) is its
spiking max pools (:mod:`.maxpool` stages whose ``pool`` event the synapses listen to), then one
``Synapses`` of composed weights: average pooling and flatten are linear and are composed into
the map with :mod:`lif_bridge.connectivity` (the same matrix the reference multiplies by), so a
conv → avg pool → dense path costs one synapse per non-zero entry and no extra group. An
identity map (a shortcut) is the diagonal of its per-channel scale. A spiking source adds its
synapse's ``jump`` per event to ``a_in`` (:func:`.equations.on_pre_code`; ``jump = w*inv_C_m_post``
derived before every run by :class:`JumpSynapses`, so ``w`` and ``C_m`` stay editable); an
analog source
(``ConstantCurrent``) feeds a summed ``a_ext<k>`` every step. An edge with a delay of ``d``
steps delivers its events ``d`` steps later (Brian2's synaptic delay) and drops those that
started in the previous sample window, as the reference starts every sample with empty delay
lines. On ``cpp_standalone`` a pathway without delay skips Brian2's spike queue and walks its
source-sorted synapses directly (:mod:`.walk`; the same order, the same sums).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np
import scipy.sparse as sp
from brian2.devices.device import RuntimeDevice, get_device

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import BackendError, ValidationError
from lif_bridge.network import MaxPool2d, Population
from lif_bridge.plan import PopulationPlan
from lif_bridge_brian2.equations import on_pre_code
from lif_bridge_brian2.maxpool import add_maxpool
from lif_bridge_brian2.walk import enable_walk, walk_code_object_class

__all__ = [
    "EdgeView",
    "JumpSynapses",
    "Projection",
    "add_projection",
    "brian2_name",
    "edges",
    "source_major",
]


@dataclass(frozen=True)
class EdgeView:
    """What the lowering reads of one incoming projection (from the core's plan)."""

    source: int
    gates: tuple[MaxPool2d, ...]
    windows: tuple[np.ndarray, ...]
    linear_stages: tuple[Any, ...]
    map: Any
    delay: int
    source_shape: tuple[int, ...]
    gated_shape: tuple[int, ...]


def edges(plan: PopulationPlan) -> tuple[EdgeView, ...]:
    """The incoming projections of a population, as the core's plan lists them."""
    return tuple(
        EdgeView(
            source=pr.source,
            gates=pr.edge.gates,
            windows=tuple(g.windows for g in pr.gates),
            linear_stages=pr.edge.linear_stages,
            map=pr.edge.map,
            delay=int(pr.delay),
            source_shape=pr.edge.source_shape,
            gated_shape=pr.edge.gated_shape,
        )
        for pr in plan.projections
    )


def edge_matrix(edge: EdgeView) -> sp.csr_matrix:
    """The composed linear map of an edge after its gates, in charge (not divided by C_m).

    The plan's ``matrix`` is this one divided by ``C_m``; Brian2 keeps the two apart
    (``w*inv_C_m_post``, the same product) so that a lab can edit ``C_m`` or ``w``.
    """
    matrix = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
    if matrix is None:  # the description forbids a max pool after a linear stage
        raise ValidationError("max pooling after a linear stage")
    return matrix


class JumpSynapses(b2.Synapses):  # type: ignore[misc]
    """The ``Synapses`` of a spiking projection: ``w`` [C] edited by labs, ``jump`` [V] derived.

    A spike through synapse ``s`` adds ``jump_s = w_s·inv_C_m[post_s]`` (the potential jump
    ``w/C_m`` of Lu & Xu's mapping) to its target's sum. Storing the product per synapse leaves
    one load and no multiply per synaptic event; it is the same IEEE product the event would
    compute, so every sum is unchanged. It is recomputed from the current ``w`` and the target's
    current ``inv_C_m`` at the start of every run: in runtime mode in NumPy, in standalone mode
    as a Brian2 assignment (``jump = w*inv_C_m_post``) that the binary runs just before the run,
    so edits of ``w`` (by array or expression) and of the target's ``C_m`` between runs take
    effect on every device. ``jump`` itself is overwritten before every run: never edit it.
    """

    def before_run(self, run_namespace: Any = None) -> None:
        """Brian2 hook at the start of every run: the target's constants, then ``jump``."""
        update = getattr(self.target, "update_derived", None)
        if update is not None:  # inv_C_m follows C_m first (its group may run its hook later)
            update()
        if isinstance(get_device(), RuntimeDevice):  # values known here: no code to generate
            post = self.variables["_synaptic_post"].get_value()
            inv_c_m = self.target.variables["inv_C_m"].get_value()
            self.variables["jump"].set_value(self.variables["w"].get_value() * inv_c_m[post])
        else:
            self.jump = "w*inv_C_m_post"
        super().before_run(run_namespace=run_namespace)


@dataclass
class Projection:
    """The Brian2 objects feeding one population, and the next free ``order``."""

    synapses: b2.Synapses
    n_synapses: int
    pools: dict[str, b2.NeuronGroup] = field(default_factory=dict)
    objects: list[Any] = field(default_factory=list)
    order: int = 1

    @property
    def names(self) -> list[str]:
        """Brian2 names of every ``Synapses`` object, gates first."""
        return [o.name for o in self.objects if isinstance(o, b2.Synapses)]


def source_major(
    pre: np.ndarray, post: np.ndarray, wts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The synapses sorted by source, then target index (the order they are created in).

    The synapses of one spike are then contiguous in Brian2's arrays (``w``,
    ``_synaptic_post``) and hit contiguous targets; a row-major (target-major) matrix puts a
    source's synapses ``n_pre`` entries apart, one cache line each (the paper MLP's first layer
    propagated 2-3x slower). The sums are unchanged: Brian2 queues the synapses of a step's
    spikes source by source, in ascending source order, whatever their layout, so every target
    adds its inputs in ascending source order either way.
    """
    order = np.lexsort((post, pre))
    return pre[order], post[order], wts[order]


def brian2_name(name: str) -> str:
    """A Brian2-safe identifier from a layer name."""
    out = re.sub(r"\W", "_", name)
    return f"l_{out}" if not out[:1].isalpha() else out


def add_projection(
    pop: Population,
    k: int,
    edge: EdgeView,
    src: b2.Group,
    event: str,
    tgt: b2.NeuronGroup,
    *,
    charge: float,
    order: int,
    clock: b2.Clock,
    namespace: dict[str, Any],
    counted: set[int],
) -> Projection:
    """Edge ``k`` of ``pop``: ``event``\\ s of ``src`` (``""``: analog) into ``tgt``.

    ``charge`` is the SI value of the preset's unit of weight; ``order`` the first free
    order in the ``synapses`` slot (max pools take five each, the synapses the next);
    ``counted`` the sources whose running spike count is already kept (one count per group).
    """
    prefix = brian2_name(pop.name) + (f"_e{k}" if k else "")
    shape = edge.source_shape
    pools: dict[str, b2.NeuronGroup] = {}
    objects: list[Any] = []
    for q, stage in enumerate(edge.gates):
        first = q == 0 and edge.source not in counted
        st, order = add_maxpool(
            src,
            event,
            stage,
            shape,
            followed_by_pool=q + 1 < len(edge.gates),
            name=brian2_name(stage.name) if stage.name and not k else f"{prefix}_pool{q}",
            order=order,
            clock=clock,
            window=namespace["W_steps"] * clock.dt,
            namespace=namespace,
            count=first or q > 0,
            windows_of=edge.windows[q],
        )
        if q == 0:
            counted.add(edge.source)
        pools[stage.name or st.windows.name] = st.windows
        objects += [o for o in (st.windows, st.count, st.gate) if o is not None]
        src, event, shape = st.windows, "pool", stage.output_shape(shape)
    try:
        coo = edge_matrix(edge).tocoo()
    except ValidationError as exc:
        raise ValidationError(f"{pop.name!r}, projection {k}: {exc}") from exc
    keep = coo.data != 0
    pre, post, wts = coo.col[keep], coo.row[keep], coo.data[keep]
    pre, post, wts = source_major(pre, post, wts)
    name = f"{prefix}_synapses"
    if event == "":  # analog input: a summed jump every step
        if edge.delay:
            raise BackendError(
                f"brian2 backend: {pop.name!r}, projection {k}: a delay on the analog "
                "(ConstantCurrent) input is not supported; use a spiking encoder or delay 0"
            )
        syn = b2.Synapses(
            src,
            tgt,
            model=f"w : coulomb (constant)\na_ext{k}_post = p_pre*(w*inv_C_m_post) : volt (summed)",
            clock=clock,
            name=name,
            namespace=namespace,
        )
    else:
        on_pre = on_pre_code(edge.delay)
        syn = JumpSynapses(
            src,
            tgt,
            model="w : coulomb (constant)\njump : volt (constant)  # derived: w*inv_C_m_post",
            on_pre=on_pre,
            on_event=event,
            delay=edge.delay * clock.dt,
            clock=clock,
            name=name,
            namespace=namespace,
            codeobj_class=walk_code_object_class(src, edge.delay, on_pre),
        )
    enable_walk(syn)
    syn.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    if event:
        # Pathways run at order -1 of the 'synapses' slot by default: place this one after
        # the max-pool gates it may listen to.
        syn.pre.order = order + 1
    syn.variables["w"].set_value(wts * charge)
    objects.append(syn)
    return Projection(syn, int(wts.size), pools, objects, order + 2)
