{# lif-bridge: no spike queue for a pathway walked from its source's events (synapses.cpp). #}
{% extends 'common_group.cpp' %}

{% block maincode %}
    // nothing to queue: {{owner.name}}'s propagation reads the source's events itself
{% endblock %}
