{# lif-bridge: synaptic propagation of a zero-delay pathway whose synapses are stored sorted by
   source (lif_bridge_brian2.walk). Each event of the source's eventspace (ascending neuron index,
   as Brian2's thresholder writes it) runs the pathway's code on that source's synapses, in
   ascending synapse index: the order Brian2's spike queue would deliver them in, without the
   queue's copy of every synapse index. With OpenMP threads (the code writes post-synaptic
   variables only, walk_code_object_class checks it; the synapses are sorted by source, then
   target), thread k takes the synapses onto the k-th slice of the targets: every target still adds its
   inputs in the same order, on one thread. #}
{% extends 'common_synapses.cpp' %}

{% block extra_headers %}
{{ super() }}
#include <algorithm>
#include <cstdlib>
#include <vector>
{% endblock %}

{% block before_code %}
    {% set split_targets = openmp_pragma('with_openmp') %}
    {# USES_VARIABLES { _synaptic_pre, _synaptic_post } #}
    // the walk below needs the synapses sorted by source (split: then by target); refuse others
    bool _sorted = true;
    for(size_t _s=1; _s<_num_synaptic_pre && _sorted; _s++)
    {
        const int32_t _a = {{_synaptic_pre}}[_s - 1], _b = {{_synaptic_pre}}[_s];
        {% if split_targets %}
        _sorted = _a < _b || (_a == _b && {{_synaptic_post}}[_s - 1] <= {{_synaptic_post}}[_s]);
        {% else %}
        _sorted = _a <= _b;
        {% endif %}
    }
    if (!_sorted)
    {
        std::cerr << "{{owner.name}}: synapses are no longer sorted by source{% if split_targets %} and target{% endif %} "
                     "(lif-bridge walks them in that order); connect new synapses in a new "
                     "Synapses object" << std::endl;
        std::exit(1);
    }
{% endblock %}

{% block maincode %}
    {% set split_targets = openmp_pragma('with_openmp') %}
    {# USES_VARIABLES { _synaptic_pre, _synaptic_post } #}
    {% set _eventspace = get_array_name(pathway.source.variables[pathway.eventspace_name]) %}
    {% set _n_source = pathway.source|length %}
    {% set _n_target = owner.target|length %}
    {% set _threads = openmp_pragma('get_num_threads') if split_targets else 1 %}
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    // _split[k*n_source + j]: the first synapse of source j onto target slice k (k = 0..threads);
    // built once per synapse array (the synapses are fixed during a run)
    static std::vector<size_t> _split(({{_threads}} + 1) * {{_n_source}});
    static const int32_t* _split_of = 0;
    static size_t _split_size = (size_t)-1;
    if(_split_of != {{_synaptic_pre}} || _split_size != _num_synaptic_pre)
    {
        std::vector<size_t> _first({{_n_source}} + 1, 0);
        for(size_t _s=0; _s<_num_synaptic_pre; _s++)
            _first[{{_synaptic_pre}}[_s] + 1]++;
        for(size_t _j=0; _j<{{_n_source}}; _j++)
            _first[_j + 1] += _first[_j];
        for(size_t _j=0; _j<{{_n_source}}; _j++)
        {
            const int32_t* const _lo = {{_synaptic_post}} + _first[_j];
            const int32_t* const _hi = {{_synaptic_post}} + _first[_j + 1];
            for(int _k=0; _k<={{_threads}}; _k++)
            {
                const int32_t _bound = (int32_t)(((long long)_k * {{_n_target}}) / {{_threads}});
                _split[_k * {{_n_source}} + _j] = _k == 0 ? _first[_j] : _k == {{_threads}}
                    ? _first[_j + 1] : std::lower_bound(_lo, _hi, _bound) - {{_synaptic_post}};
            }
        }
        _split_of = {{_synaptic_pre}};
        _split_size = _num_synaptic_pre;
    }
    const int32_t* const _events = {{_eventspace}};
    const int32_t _num_events = _events[{{_n_source}}];
    {% if split_targets %}
    {{ openmp_pragma('parallel') }}
    {% endif %}
    {
        const int _k = {{ openmp_pragma('get_thread_num') if split_targets else 0 }};
        const size_t* const _from = &_split[_k * {{_n_source}}];
        const size_t* const _to = &_split[(_k + 1) * {{_n_source}}];
        for(int32_t _event=0; _event<_num_events; _event++)
        {
            const int32_t _source = _events[_event];
            const size_t _stop = _to[_source];
            for(size_t _idx=_from[_source]; _idx<_stop; _idx++)
            {
                const size_t _vectorisation_idx = _idx;
                {{vector_code|autoindent}}
            }
        }
    }
{% endblock %}
