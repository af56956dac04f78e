"""What many tests share: the repository root, the demo configs, running a command or a tool, a free port."""
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Dict, Iterator, List, Optional

REPO = Path(__file__).resolve().parents[1]
DET_CFG = str(REPO / 'configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py')
CLS_CFG = str(REPO / 'configs/demo/lenet_digits-lt.py')


def run(cmd: List[str], cwd: Path, env: Optional[Dict[str, str]] = None,
        timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command, fail the test with its output when it fails; stdout and stderr are merged."""
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    assert proc.returncode == 0, f'{" ".join(cmd)} exited {proc.returncode}:\n{proc.stdout[-6000:]}'
    return proc


def tool(name: str, *args: str) -> List[str]:
    return [sys.executable, str(REPO / 'tools' / name), *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextmanager
def gloo_process_group(rank: int, world_size: int, port: int) -> Iterator[None]:
    """A spawned test worker's gloo process group on localhost, destroyed on exit; the worker keeps one thread (a
    forked child must not enter the parent's OpenMP pool)."""
    import torch
    import torch.distributed as torch_dist

    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world_size,
                                  timeout=timedelta(seconds=120))
    try:
        yield
    finally:
        torch_dist.destroy_process_group()
