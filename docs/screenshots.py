"""Screenshots of the MLflow UI for chapter 04, taken in headless Chromium from the course's
own runs (regenerate them when MLflow's UI changes).

Needs Chromium and ChromeDriver (Debian: ``apt-get install chromium chromium-driver``) and
Selenium in a virtual environment of its own (not the course's)::

    python3 -m venv /tmp/selenium && /tmp/selenium/bin/pip install selenium pillow
    uv run reproml-course execute solutions/04_mlflow.ipynb      # the runs, in ./mlflow.db
    uv run mlflow server --backend-store-uri sqlite:///mlflow.db --port 5055 &
    /tmp/selenium/bin/python docs/screenshots.py http://127.0.0.1:5055 EXPERIMENT_ID RUN_ID

It writes ``docs/images/mlflow_runs_chart.png`` (the experiment's runs, charted) and
``docs/images/mlflow_run_metrics.png`` (one run's metrics); chapter 04 embeds them as cell
attachments, so they show on GitHub and Colab too.
"""

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,860",
)  # fmt: skip
IMAGES = Path(__file__).resolve().parent / "images"


def save(driver, name: str) -> None:
    """A 1,050-pixel wide screenshot with 96 colours: about 50 kB in a notebook."""
    path = IMAGES / name
    driver.save_screenshot(str(path))
    image = Image.open(path).convert("RGB")
    height = round(image.height * 1050 / image.width)
    image = image.resize((1050, height), Image.LANCZOS).quantize(colors=96)
    image.save(path, optimize=True)


def main(url: str, experiment_id: str, run_id: str) -> None:
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{url}/#/experiments/{experiment_id}/runs")
        time.sleep(7)
        for element in driver.find_elements(By.XPATH, "//*[normalize-space(text())='Got it']"):
            element.click()  # a tip MLflow shows on a first visit
        # The runs' view toggles have no label: the chart view is the second icon.
        icon = driver.execute_script("return document.elementFromPoint(296, 120)")
        driver.execute_script(
            "let e = arguments[0]; while (e && !['BUTTON', 'LABEL'].includes(e.tagName) &&"
            " !e.getAttribute('role')) e = e.parentElement; e.click();",
            icon,
        )
        time.sleep(7)
        search = driver.find_element(By.CSS_SELECTOR, "input[placeholder='Search metric charts']")
        search.send_keys("accuracy")
        time.sleep(4)
        save(driver, "mlflow_runs_chart.png")
        driver.get(f"{url}/#/experiments/{experiment_id}/runs/{run_id}/model-metrics")
        time.sleep(7)
        for button in driver.find_elements(By.CSS_SELECTOR, "button[aria-label*='lose']"):
            button.click()  # MLflow's assistant panel, open on a first visit
        time.sleep(2)
        save(driver, "mlflow_run_metrics.png")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
