"""placeholder"""


class LoihiLimits: ...


class LoihiReport: ...


def loihi_report(*a, **k): ...
