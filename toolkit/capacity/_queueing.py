"""Queueing formulas of :mod:`toolkit.capacity`: Erlang B and C, M/M/c, and the M/G/c
waiting-time approximation used for time to first token.

All rates are per second and all times in seconds. The formulas are the textbook ones
(Kleinrock, *Queueing Systems* vol. 1; Gross and Harris, *Fundamentals of Queueing
Theory*): with offered load ``a = arrival_rate / service_rate`` and ``c`` servers,

- Erlang B by the stable recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``;
- Erlang C, the probability that an arrival waits, ``C = c B / (c - a (1 - B))``;
- M/M/c mean wait ``Wq = C / (c mu - lambda)`` and wait distribution
  ``P(Wq > t) = C exp(-(c mu - lambda) t)``;
- M/G/c mean wait by the Allen-Cunneen (Lee-Longton) approximation
  ``Wq(M/G/c) ~ Wq(M/M/c) (1 + cs^2) / 2`` with ``cs^2`` the squared coefficient of
  variation of the service time; exact for c = 1 (Pollaczek-Khinchine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit._validation import Interval, validate_params

__all__ = ["MMc", "erlang_b", "erlang_c", "mgc_wait", "mmc"]


#: A rate, a load or a variability: finite and not negative.
_NON_NEGATIVE = Interval(float, 0, None, description="a finite number >= 0")
#: A service rate or time: finite and positive.
_POSITIVE = Interval(float, 0, None, closed="right", description="a finite number > 0")
#: A number of servers.
_SERVERS = Interval(int, 1, None, description="an integer >= 1")


@validate_params(offered_load=_NON_NEGATIVE, servers=_SERVERS)
def erlang_b(offered_load: float, servers: int) -> float:
    """Blocking probability of an M/M/c/c loss system (Erlang B).

    Parameters
    ----------
    offered_load : float
        ``arrival_rate / service_rate`` in erlangs (>= 0).
    servers : int
        Number of servers (>= 1).

    Returns
    -------
    float

    Examples
    --------
    >>> round(erlang_b(2.0, 2), 4)  # a^c/c! / sum(a^k/k!) = 2 / 5
    0.4
    """
    a, c = float(offered_load), int(servers)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@validate_params(arrival_rate=_NON_NEGATIVE, service_rate=_POSITIVE, servers=_SERVERS)
def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that a request waits in an M/M/c queue (Erlang C).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, requests per second (>= 0).
    service_rate : float
        Service rate of one server, requests per second (> 0).
    servers : int
        Number of servers (>= 1).

    Returns
    -------
    float
        Between 0 and 1; 1.0 when the queue is unstable (``arrival_rate >= servers *
        service_rate``): every request waits.

    Examples
    --------
    >>> round(erlang_c(1.0, 2.0, 1), 3)  # M/M/1: the utilisation
    0.5
    >>> round(erlang_c(10.0, 1.0, 11), 4)  # 10 erlangs on 11 servers
    0.6821
    """
    lam = float(arrival_rate)
    mu = float(service_rate)
    c = int(servers)
    a = lam / mu
    if a >= c:
        return 1.0
    b = erlang_b(a, c)
    return c * b / (c - a * (1.0 - b))


@dataclass(frozen=True)
class MMc:
    """Steady state of an M/M/c queue (times in seconds).

    Attributes
    ----------
    arrival_rate, service_rate : float
        Per second.
    servers : int
    utilisation : float
        ``arrival_rate / (servers * service_rate)``.
    p_wait : float
        Erlang C.
    mean_wait_s : float
        Mean time in queue (inf when unstable).
    mean_response_s : float
        Mean wait plus mean service time.
    mean_queue_length : float
        ``arrival_rate * mean_wait_s`` (Little's law).
    """

    arrival_rate: float
    service_rate: float
    servers: int
    utilisation: float
    p_wait: float
    mean_wait_s: float
    mean_response_s: float
    mean_queue_length: float

    @property
    def stable(self) -> bool:
        """Whether the queue has a steady state (utilisation < 1)."""
        return self.utilisation < 1.0

    @validate_params(q=Interval(float, 0, 1, closed="left"))
    def wait_quantile(self, q: float) -> float:
        """The ``q`` quantile of the waiting time, from ``P(W > t) = C e^{-(c mu - lambda) t}``.

        Examples
        --------
        >>> round(mmc(1.0, 2.0, 1).wait_quantile(0.75), 4)  # ln(0.5 / 0.25) / 1
        0.6931
        """
        q = float(q)
        if not self.stable:
            return math.inf
        if self.p_wait <= 1.0 - q:
            return 0.0
        rate = self.servers * self.service_rate - self.arrival_rate
        return math.log(self.p_wait / (1.0 - q)) / rate


@validate_params(arrival_rate=_NON_NEGATIVE, service_rate=_POSITIVE, servers=_SERVERS)
def mmc(arrival_rate: float, service_rate: float, servers: int) -> MMc:
    """The M/M/c queue's utilisation, waiting probability, mean wait and queue length.

    Parameters
    ----------
    arrival_rate : float
        Requests per second.
    service_rate : float
        Requests per second that one server completes.
    servers : int

    Returns
    -------
    MMc

    Examples
    --------
    >>> q = mmc(1.0, 1.0, 2)  # rho = 0.5: P(wait) = 2 rho^2 / (1 + rho) = 1/3
    >>> round(q.p_wait, 4), round(q.mean_wait_s, 4)
    (0.3333, 0.3333)
    """
    lam = float(arrival_rate)
    mu = float(service_rate)
    c = int(servers)
    rho = lam / (c * mu)
    p = erlang_c(lam, mu, c)
    wait = p / (c * mu - lam) if rho < 1.0 else math.inf
    return MMc(lam, mu, c, rho, p, wait, wait + 1.0 / mu, lam * wait)


@validate_params(
    arrival_rate=_NON_NEGATIVE, mean_service_s=_POSITIVE, scv=_NON_NEGATIVE, servers=_SERVERS
)
def mgc_wait(arrival_rate: float, mean_service_s: float, scv: float, servers: int) -> float:
    """Mean waiting time of an M/G/c queue (Allen-Cunneen / Lee-Longton approximation).

    ``Wq(M/G/c) ~ Wq(M/M/c) * (1 + scv) / 2``; exact for one server (Pollaczek-Khinchine)
    and for exponential service (``scv = 1``).

    Parameters
    ----------
    arrival_rate : float
        Requests per second.
    mean_service_s : float
        Mean service time in seconds (> 0).
    scv : float
        Squared coefficient of variation of the service time (variance / mean^2; 0 for
        deterministic, 1 for exponential service).
    servers : int

    Returns
    -------
    float
        Seconds; inf when unstable.

    Examples
    --------
    >>> round(mgc_wait(0.5, 1.0, 0.0, 1), 4)  # M/D/1: rho / (2 mu (1 - rho))
    0.5
    """
    mean = float(mean_service_s)
    cs2 = float(scv)
    base = mmc(arrival_rate, 1.0 / mean, servers)
    return base.mean_wait_s * (1.0 + cs2) / 2.0
