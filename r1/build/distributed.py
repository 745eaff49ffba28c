"""Several processes of one stage (`accelerate launch`, `torchrun`): who is main, waiting for the others, agreeing.

A launcher starts N copies of a stage; each trains its share and reaches `StageRun.publish`. Only the main process
may publish the artifact, and only after every process has finished (`barrier`): the others write into a scratch
directory that is discarded. Stop decisions (a time cap) must be the same on every rank at the same step, or the
ranks that carry on hang in their next collective: `any_rank` agrees on them.

The rank and world size come from the launcher's environment (RANK, WORLD_SIZE; both torchrun and accelerate set
them), so a single process (plain `python -m ...`) needs no process group at all. A group is joined lazily (gloo,
env:// rendezvous) only where a stage has not started one itself: the Trainer (through accelerate) starts its own
before any collective here runs.
"""

from __future__ import annotations

import hashlib
import os

from r1.build.log import logger

log = logger("distributed")


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE") or 1)


def rank() -> int:
    return int(os.environ.get("RANK") or 0)


def is_main() -> bool:
    """The process that publishes: rank 0 (or the only process)."""
    return rank() == 0


def _group():
    """torch.distributed, joined if this is one of several processes and no group exists yet; None if single."""
    if world_size() <= 1:
        return None
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo", init_method="env://", rank=rank(), world_size=world_size())
    return dist


def barrier() -> None:
    """Wait until every process of the launch reaches this point (nothing when single)."""
    dist = _group()
    if dist is not None:
        dist.barrier()


def any_rank(flag: bool) -> bool:
    """True on every rank when `flag` is true on any rank (a collective: every rank must call it at the same point;
    single process: `flag` itself). Why: a stop decided by one rank alone leaves the others waiting forever."""
    dist = _group()
    if dist is None:
        return bool(flag)
    import torch

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def param_digest(model) -> str:
    """md5 over a model's state dict (sorted names, float32 bytes): the same on every rank of a data-parallel run,
    and equal to the digest of the published model once loaded. Logged by the trainers so a run shows its ranks
    agreed and what was published."""
    return state_digest(model.state_dict())


def state_digest(state: dict) -> str:
    import torch

    digest = hashlib.md5()
    for name in sorted(state):
        t = state[name].detach().to("cpu", torch.float32).contiguous()
        digest.update(name.encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def report_params(trainer, log_fn=log) -> str:
    """Log `rank R/N params <digest>` of a Trainer's (or a model's) final weights when there are several processes;
    returns the digest ('' when single). Under DeepSpeed each rank holds shards: the weights are gathered (a
    collective, so every rank calls this) and the main process, the one that holds them whole, reports."""
    if world_size() <= 1:
        return ""
    if getattr(trainer, "is_deepspeed_enabled", False):
        state = trainer.accelerator.get_state_dict(trainer.deepspeed)
        if not is_main():
            return ""
        digest = state_digest(state)
    else:
        digest = param_digest(trainer.model if hasattr(trainer, "accelerator") else trainer)  # a Trainer or a model
    log_fn(f"rank {rank()}/{world_size()} params {digest}")
    return digest
