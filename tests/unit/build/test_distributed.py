"""Two real processes over gloo (as torchrun / accelerate launch start them): only the main one publishes, after the
other has finished; a time cap reached on one rank stops both at the same step."""

import json
import socket
import subprocess
import sys
import textwrap

from r1.build import distributed

WORKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from r1 import config
    from r1.build import distributed
    from r1.build.stage import start
    from r1.build.clock import Cap
    from r1.train.callbacks import TimeCap
    from transformers import TrainerControl, TrainerState

    work = Path(sys.argv[1])
    rank = distributed.rank()
    report = {"rank": rank}
    # a cap that only rank 0 has reached; every rank asks at each step and reports where it stopped
    cap = TimeCap(Cap("time_caps.minutes.test", 1e-9 if rank == 0 else None), every=1)
    state = TrainerState(max_steps=10)
    for step in range(1, 11):
        state.global_step = step
        control = cap.on_step_end(None, state, TrainerControl())
        if control.should_training_stop:
            break
    report["stopped_at"] = cap.stopped_at
    run = start("tasks", config.load("ci"))
    with run.publish(out=work / "artifact") as out:
        report["dir"] = str(out)
        (out / f"from_rank{rank}").write_text(str(rank))
        if rank == 1:
            time.sleep(1.5)  # the slow rank: main must wait for it before publishing
            (work / "rank1_done").write_text("")
    report["published_after_rank1"] = (work / "artifact").exists() and (work / "rank1_done").exists()
    report["own_dir_left"] = Path(report["dir"]).exists()
    (work / f"report{rank}.json").write_text(json.dumps(report))
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(tmp_path, n=2):
    port = _free_port()
    procs = []
    for rank in range(n):
        env = {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(n), "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path)], env={**_env(), **env},
                                      stderr=subprocess.PIPE, text=True))
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    return [json.loads((tmp_path / f"report{r}.json").read_text()) for r in range(n)]


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}


def test_only_main_publishes_after_every_rank_finished_and_caps_agree(tmp_path):
    main, other = _launch(tmp_path)
    published = sorted(p.name for p in (tmp_path / "artifact").iterdir())
    assert "from_rank0" in published and "from_rank1" not in published and "manifest.json" in published
    assert main["published_after_rank1"]  # the barrier: rank 1's slow block had ended before the rename
    assert not other["own_dir_left"] and not other["dir"].startswith(str(tmp_path / "artifact"))
    # rank 0's cap was reached, rank 1's never is: both stop at the first step they check
    assert main["stopped_at"] == other["stopped_at"] == 1


def test_single_process_needs_no_group(monkeypatch):
    for key in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    assert distributed.world_size() == 1 and distributed.is_main()
    assert distributed.any_rank(True) and not distributed.any_rank(False)
    distributed.barrier()  # nothing to wait for
