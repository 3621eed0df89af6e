"""The MLflow tile in headless Chromium: MLflow's UI opens an experiment on its runs, in the
model-training view, with no Assistant panel open (MLflow 3.17 opened its GenAI "Overview"
and an LLM chat panel). Needs Debian's chromium and chromium-driver, else skipped."""

from __future__ import annotations

import os
import signal
import subprocess

import mlflow
import pytest
from browser import chromium

from reproml_course.classroom.mlflow_proxy import mlflow_ui

pytestmark = pytest.mark.slow


def test_the_tile_opens_an_experiment_on_its_runs_without_the_assistant(mlflow_uri, free_port):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    mlflow.set_experiment("ch04-mlflow")
    with mlflow.start_run(run_name="logreg-lr0.1"):
        mlflow.log_metric("val_accuracy", 0.81)
    port = free_port()
    tile = mlflow_ui()
    command = [word.format(port=port) for word in tile["command"]]
    launcher = subprocess.Popen(
        command, env={**os.environ, **tile["environment"]}, stderr=subprocess.DEVNULL
    )
    driver = chromium("1400,900")
    try:
        base = f"http://127.0.0.1:{port}/"
        driver.get(base + "reproml-start")  # what the tile opens (behind Jupyter: /mlflow/...)
        wait = WebDriverWait(driver, 120, poll_frequency=0.5)
        experiment = wait.until(lambda d: d.find_elements(By.LINK_TEXT, "ch04-mlflow"))[0]
        experiment.click()
        wait.until(lambda d: "/runs" in d.current_url)
        assert "workflowType=machine_learning" in driver.current_url
        wait.until(lambda d: d.find_elements(By.LINK_TEXT, "logreg-lr0.1"))
        assistant = [e for e in driver.find_elements(By.XPATH, "//*[text()='MLflow Assistant']")]
        assert not [e for e in assistant if e.is_displayed()]
        stored = driver.execute_script(
            "return localStorage.getItem('mlflow.settings.telemetry.enabled_v1')"
        )
        assert stored == "false"
    finally:
        driver.quit()
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=30)
