"""``ContractFailure``: a module breaks its kind's contract; the message is the one line a user reads."""


class ContractFailure(AssertionError):
    """One broken promise of the contract, said in one line (what came out, what was expected)."""
