"""Does the course fit Binder's 2 GB? Chapter 04 run in a real browser, with the MLflow tile open.

    REPROML_DATA_DIR=../shared/data <python with selenium> benchmarks/binder_memory.py

Needs Chromium, chromedriver and a Python with selenium (not the project's environment: the
script only drives processes and reads /proc; Linux only). It starts ``jupyter lab`` from the
project's ``.venv``, opens a copy of ``solutions/04_mlflow.ipynb`` (under ``outputs/``, so that
nothing tracked changes) in headless Chromium, runs all its cells from the Run menu, then opens
the MLflow tile in a second tab and waits until the runs table shows. It prints the PSS of the
Jupyter server, of the kernel and of the tile's MLflow server (PSS splits shared pages between
processes, so the sum is what they use together), and the time the tile took; screenshots go
to ``outputs/binder_benchmark/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # reproml_course.base.processes: the standard library only

from reproml_course.base.processes import command_line, descendants, has_module, pss_kib  # noqa: E402

OUT = ROOT / "outputs" / "binder_benchmark"
PORT, TOKEN = 8932, "bench"
LIMIT_MIB = 2048


def api(path: str) -> object:
    url = f"http://127.0.0.1:{PORT}{path}?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for(condition, timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:
            pass
        time.sleep(every)
    return False


def click_menu(driver: webdriver.Chrome, menu: str, item: str) -> None:
    driver.find_element(By.XPATH, f"//li[@role='menuitem']//div[text()='{menu}']").click()
    time.sleep(0.5)
    driver.find_element(By.XPATH, f"//li[@role='menuitem']//div[text()='{item}']").click()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    notebook = OUT / "04_mlflow.ipynb"
    shutil.copy(ROOT / "solutions" / "04_mlflow.ipynb", notebook)
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    command = [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", f"--port={PORT}",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}"]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (OUT / "lab.log").open("w")
    lab = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    try:
        assert wait_for(lambda: api("/api/status"), 60), "jupyter lab did not answer"
        server_alone = pss_kib(lab.pid) / 1024
        relative = notebook.relative_to(ROOT)
        driver.get(f"http://127.0.0.1:{PORT}/lab/tree/{relative}?token={TOKEN}")
        assert wait_for(lambda: api("/api/kernels"), 120), "no kernel started"
        time.sleep(5)  # the notebook panel and its toolbar
        started = time.monotonic()
        click_menu(driver, "Run", "Run All Cells")

        def finished() -> bool:
            prompts = driver.find_elements(By.CSS_SELECTOR, ".jp-InputPrompt")
            busy = any("*" in p.text for p in prompts)
            idle = all(k["execution_state"] == "idle" for k in api("/api/kernels"))
            return idle and not busy and time.monotonic() - started > 20

        assert wait_for(finished, 1500, every=3), "the notebook did not finish"
        ran = time.monotonic() - started
        errors = len(
            driver.find_elements(
                By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.error']"
            )
        )
        driver.save_screenshot(str(OUT / "chapter04.png"))

        driver.switch_to.new_window("tab")
        opened = time.monotonic()
        [tile] = [s for s in api("/server-proxy/servers-info")["server_processes"]
                  if s["name"] == "mlflow"]  # fmt: skip
        landing = tile["launcher_entry"]["path_info"]  # where the launcher's tile goes
        driver.get(f"http://127.0.0.1:{PORT}/{landing.replace('#', f'?token={TOKEN}#', 1)}")
        shown = wait_for(lambda: "ch04" in driver.find_element(By.TAG_NAME, "body").text, 180)
        tile_seconds = time.monotonic() - opened
        time.sleep(10)  # let the UI load the experiment's runs
        driver.save_screenshot(str(OUT / "mlflow_tile.png"))

        parts = {"Jupyter server": [], "kernel": [], "MLflow server (tile)": []}
        for pid in descendants(lab.pid):
            line = command_line(pid)
            if "ipykernel" in line:
                parts["kernel"].append(pid)
            elif "mlflow" in line:
                parts["MLflow server (tile)"].append(pid)
            else:
                parts["Jupyter server"].append(pid)
        data = os.environ.get("REPROML_DATA_DIR", "data/")
        tile = "showed the experiments" if shown else "showed nothing"
        print(
            f"chapter 04 (solutions, data: {data}) ran in {ran:.0f} s in the browser, "
            f"{errors} error outputs; the MLflow tile {tile} after {tile_seconds:.1f} s"
        )
        print(f"Jupyter server before any kernel: {server_alone:.0f} MiB PSS, torch "
              f"{'loaded' if has_module(lab.pid, 'torch') else 'not loaded'}\n")  # fmt: skip
        print("| process | count | PSS MiB |")
        print("|---------|-------|---------|")
        total = 0.0
        for name, pids in parts.items():
            mib = sum(pss_kib(p) for p in pids) / 1024
            total += mib
            print(f"| {name} | {len(pids)} | {mib:.0f} |")
        print(f"| **total** | | **{total:.0f}** ({'under' if total < LIMIT_MIB else 'OVER'} "
              f"Binder's {LIMIT_MIB} MiB) |")  # fmt: skip
    finally:
        driver.quit()
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait()
        log.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
