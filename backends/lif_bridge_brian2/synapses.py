r"""The synapses into one population: max-pool gates, then one ``Synapses`` of composed weights.

Average pooling and flatten are linear: they are composed into the layer's synapses with
:func:`lif_bridge.connectivity.population_matrix` (the same matrix the reference multiplies by),
so a conv → avg pool → dense path costs one synapse per non-zero entry and no extra group.
Spiking max pools in front are :mod:`.maxpool` stages whose ``pool`` event the synapses listen
to. A spiking source adds ``w*inv_C_m`` per event to ``a_in`` (:func:`.equations.on_pre_code`);
an analog source (``ConstantCurrent``) feeds a summed ``a_ext`` every step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import ValidationError
from lif_bridge.network import MaxPool2d, Population
from lif_bridge_brian2.equations import on_pre_code
from lif_bridge_brian2.maxpool import add_maxpool

__all__ = ["WINDOW_START", "Projection", "add_projection", "brian2_name", "split_stages"]

#: Code prefix of every window reset: ``new_w`` is 1 at the first step of a sample window.
WINDOW_START = "new_w = int(t_in_timesteps % W_steps == 0)\n"


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


def split_stages(pop: Population) -> tuple[list[MaxPool2d], tuple[Any, ...]]:
    """The leading max pools and the linear stages after them."""
    pools = [s for s in pop.stages if isinstance(s, MaxPool2d)]
    return pools, tuple(pop.stages[len(pools) :])


def brian2_name(name: str) -> str:
    """A Brian2-safe identifier from a layer name."""
    out = re.sub(r"\W", "_", name)
    return f"l_{out}" if not out[:1].isalpha() else out


def add_projection(
    pop: Population,
    src: b2.Group,
    event: str,
    tgt: b2.NeuronGroup,
    *,
    charge: float,
    order: int,
    clock: b2.Clock,
    namespace: dict[str, Any],
) -> Projection:
    """Objects carrying ``event``\\ s of ``src`` (``""``: analog) into ``tgt``, for ``pop``.

    ``charge`` is the SI value of the preset's unit of weight; ``order`` the first free
    order in the ``synapses`` slot (max pools take five each, the synapses the next).
    """
    max_stages, linear = split_stages(pop)
    shape = pop.source_shape
    pools: dict[str, b2.NeuronGroup] = {}
    objects: list[Any] = []
    for k, stage in enumerate(max_stages):
        st, order = add_maxpool(
            src,
            event,
            stage,
            shape,
            followed_by_pool=k + 1 < len(max_stages),
            name=brian2_name(stage.name),
            order=order,
            clock=clock,
            window_reset=WINDOW_START,
            namespace=namespace,
        )
        pools[stage.name] = st.windows
        objects += [st.windows, st.count, st.gate]
        src, event, shape = st.windows, "pool", stage.output_shape(shape)
    layer: Any = pop.layer  # a weighted layer (Dense or Conv2d)
    matrix = population_matrix(layer, linear, shape)
    if matrix is None:  # the description forbids a max pool after a linear stage
        raise ValidationError(f"{pop.name!r}: max pooling after a linear stage")
    coo = matrix.tocoo()
    keep = coo.data != 0
    pre, post, wts = coo.col[keep], coo.row[keep], coo.data[keep]
    name = f"{brian2_name(pop.name)}_synapses"
    if event == "":  # analog input: a summed jump every step
        syn = b2.Synapses(
            src,
            tgt,
            model="w : coulomb (constant)\na_ext_post = p_pre*(w*inv_C_m_post) : volt (summed)",
            clock=clock,
            name=name,
            namespace=namespace,
        )
    else:
        syn = b2.Synapses(
            src,
            tgt,
            model="w : coulomb (constant)",
            on_pre=on_pre_code(),
            on_event=event,
            clock=clock,
            name=name,
            namespace=namespace,
        )
    syn.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    if event:
        # Pathways run at order -1 of the 'synapses' slot by default: place this one after
        # the max-pool gates it may listen to.
        syn.pre.order = order + 1
    syn.variables["w"].set_value(wts * charge)
    objects.append(syn)
    return Projection(syn, int(wts.size), pools, objects, order + 2)
