"""The student's Hydra application as chapter 03's checks read it (3.1, 3.2, 3.3): its
folder and ``conf/``, each file written (more than the stub's comments), and the configuration
Hydra's compose API makes of it, where a composition error is the student's failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, expect


def _app(app: Any) -> tuple[Path, Path]:
    folder = Path(app)
    expect(
        folder.is_dir() and (folder / "conf").is_dir(),
        f"{folder} has no conf/ folder.",
        "run the cells that write the application's files first.",
    )
    return folder, folder / "conf"


def _written(conf: Path, *names: str) -> None:
    """Each file exists and holds more than comments (a student notebook's stub is one)."""
    for name in names:
        path = conf / name
        expect(path.is_file(), f"there is no conf/{name}.", "run the cell that writes it.")
        lines = [line.strip() for line in path.read_text().splitlines()]
        expect(
            any(line and not line.startswith("#") for line in lines),
            f"conf/{name} is not written yet (it holds only comments).",
            "replace the `# YOUR CODE HERE` line with the file's content, then run the cell.",
        )


def _compose(conf: Path, overrides: list[str]):
    """The student's configuration, as Hydra composes it; a composition error is a failure."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    text = " ".join(overrides) or "(no overrides)"
    if not (conf / "config.yaml").is_file():
        raise CheckFailed("there is no conf/config.yaml.", "the primary config is config.yaml.")
    stub = (conf / "config.yaml").read_text()
    if "YOUR CODE HERE" in stub and "defaults" not in stub:
        raise CheckFailed("conf/config.yaml is not written yet.")
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(conf.resolve())):
            cfg = compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckFailed(
            f"Hydra cannot compose your configuration with {text}: {first}",
            "each group is a folder, each option a file in it named after the option, and "
            "config.yaml lists the default option of each group.",
        ) from None
    return OmegaConf.to_container(cfg, resolve=True)
