"""Chapter 06's checks against the mistakes students make."""

import torch


def test_same_weights(evaluate):
    def right(a, b):
        a, b = a.state_dict(), b.state_dict()
        return a.keys() == b.keys() and all(
            a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
        )

    def parameters_only(a, b):
        pa, pb = list(a.parameters()), list(b.parameters())
        return len(pa) == len(pb) and all(
            x.shape == y.shape and torch.equal(x, y) for x, y in zip(pa, pb, strict=True)
        )

    def close_enough(a, b):
        a, b = a.state_dict(), b.state_dict()
        return a.keys() == b.keys() and all(
            a[k].shape == b[k].shape and torch.allclose(a[k].float(), b[k].float()) for k in a
        )

    def values_in_order(a, b):  # the names ignored
        return all(
            x.shape == y.shape and torch.equal(x, y)
            for x, y in zip(a.state_dict().values(), b.state_dict().values())  # noqa: B905
        )

    def same_count_in_order(a, b):
        va, vb = list(a.state_dict().values()), list(b.state_dict().values())
        return len(va) == len(vb) and all(
            x.shape == y.shape and torch.equal(x, y) for x, y in zip(va, vb, strict=True)
        )

    assert evaluate("6.1", right) == (True, "passed")
    assert "batch-norm running statistics" in evaluate("6.1", parameters_only)[1]
    assert "differs in its last bit" in evaluate("6.1", close_enough)[1]
    assert "under other names" not in evaluate("6.1", right)[1]
    assert "their parameters have other names" in evaluate("6.1", same_count_in_order)[1]
    passed, said = evaluate("6.1", values_in_order)
    assert not passed and ("other names" in said or "one more layer" in said)


def test_environment_diff(evaluate):
    def right(a, b):
        return {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}

    def common_keys_only(a, b):
        return {k: (a[k], b[k]) for k in a.keys() & b.keys() if a[k] != b[k]}

    assert evaluate("6.3", right) == (True, "passed")
    assert "a tag present in only one run" in evaluate("6.3", common_keys_only)[1]


def test_batch_order(evaluate):
    def right(n, seed):
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed))

    def global_seed(n, seed):
        torch.manual_seed(seed)
        return torch.randperm(n)

    assert evaluate("6.2", right) == (True, "passed")
    assert "changed the global random state" in evaluate("6.2", global_seed)[1]
