{# lif-bridge: synaptic propagation of a zero-delay pathway whose synapses are stored sorted by
   source (lif_bridge_brian2.walk). Each event of the source's eventspace (ascending neuron index,
   as Brian2's thresholder writes it) runs the pathway's code on that source's synapses, in
   ascending synapse index: the order Brian2's spike queue would deliver them in, without the
   queue's copy of every synapse index. #}
{% extends 'common_synapses.cpp' %}

{% block extra_headers %}
{{ super() }}
#include <algorithm>
#include <cstdlib>
#include <vector>
{% endblock %}

{% block before_code %}
    {# USES_VARIABLES { _synaptic_pre } #}
    // the walk below needs the synapses sorted by source; refuse anything else
    if (!std::is_sorted({{_synaptic_pre}}, {{_synaptic_pre}} + _num_synaptic_pre))
    {
        std::cerr << "{{owner.name}}: synapses are no longer sorted by source (lif-bridge walks "
                     "them in that order); connect new synapses in a new Synapses object" << std::endl;
        std::exit(1);
    }
{% endblock %}

{% block maincode %}
    {# USES_VARIABLES { _synaptic_pre } #}
    {% set _eventspace = get_array_name(pathway.source.variables[pathway.eventspace_name]) %}
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    // where each source's synapses start: built once per synapse array (they are fixed in a run)
    {% set _n_source = pathway.source|length %}
    static std::vector<size_t> _first({{_n_source}} + 1);
    static const int32_t* _first_of = 0;
    static size_t _first_size = (size_t)-1;
    if(_first_of != {{_synaptic_pre}} || _first_size != _num_synaptic_pre)
    {
        std::fill(_first.begin(), _first.end(), 0);
        for(size_t _s=0; _s<_num_synaptic_pre; _s++)
            _first[{{_synaptic_pre}}[_s] + 1]++;
        for(size_t _j=0; _j<{{_n_source}}; _j++)
            _first[_j + 1] += _first[_j];
        _first_of = {{_synaptic_pre}};
        _first_size = _num_synaptic_pre;
    }
    const int32_t* const _events = {{_eventspace}};
    const int32_t _num_events = _events[{{_n_source}}];
    for(int32_t _event=0; _event<_num_events; _event++)
    {
        const int32_t _source = _events[_event];
        const size_t _stop = _first[_source + 1];
        for(size_t _idx=_first[_source]; _idx<_stop; _idx++)
        {
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
    }
{% endblock %}
