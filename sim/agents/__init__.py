"""The kinds of agent: strategic actors as Mesa agents, customers as arrays with thin views."""

from sim.agents.customers import ChineseCustomer, CustomerPopulation, InternationalCustomer
from sim.agents.developers import ModelDeveloper
from sim.agents.domestic import DomesticProviders
from sim.agents.intermediary import CloudIntermediary
from sim.agents.regulators import ChinaRegulator, USRegulator

__all__ = [
    "ChinaRegulator",
    "ChineseCustomer",
    "CloudIntermediary",
    "CustomerPopulation",
    "DomesticProviders",
    "InternationalCustomer",
    "ModelDeveloper",
    "USRegulator",
]
