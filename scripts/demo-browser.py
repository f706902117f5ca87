#!/usr/bin/env python3
"""Drives the demo page in headless Chromium through the DevTools protocol, over the pipe
Chromium opens with --remote-debugging-pipe (no websocket, no package beyond the standard
library, no browser download).

    demo-browser.py CHROMIUM URL MODEL_JSON RESULTS_JSON SCREENSHOT_PNG

1. Opens URL at a phone's viewport (390 x 844), waits for `sinewDemo.ready`.
2. Loads the 10 held-out digits of MODEL_JSON into the page through its JavaScript API
   (`sinewDemo.classify`), and times one inference (median of 15 timings of 20 calls, in
   real time); writes { digits: [{ class, probabilities }], micros_per_inference } to
   RESULTS_JSON for `demo-data check`.
3. Draws digit 3 on the pad (`sinewDemo.show`) and saves a screenshot to SCREENSHOT_PNG.
"""
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile


def _to_3_and_4(commands, answers):
    """In the child: the command pipe on fd 3, the answer pipe on fd 4 (copied above 10
    first, so that neither move overwrites the other)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands, answers)]
    os.dup2(high[0], 3)
    os.dup2(high[1], 4)


class Browser:
    def __init__(self, chromium, profile):
        # fd 3: commands to Chromium; fd 4: its answers and events (NUL-terminated JSON).
        to_child, self._commands = os.pipe()
        self._answers, from_child = os.pipe()
        self.process = subprocess.Popen(
            # No background connections: on a closed network they are refused, many at a time.
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-quic", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            # Not `pass_fds`: it closes every other descriptor after `preexec_fn`, 3 and 4
            # included. Python's own descriptors are not inheritable; the copies are.
            close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: _to_3_and_4(to_child, from_child),
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def _read(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except RuntimeError:
            pass
        self.process.wait(timeout=20)


def main():
    chromium, url, model_path, results_path, screenshot_path = sys.argv[1:6]
    model = json.load(open(model_path))
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(chromium, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)
            attached = browser.send("Target.attachToTarget",
                                    {"targetId": target["targetId"], "flatten": True}, session=False)
            browser.session = attached["sessionId"]
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
            browser.send("Page.enable")
            browser.send("Page.navigate", {"url": url})
            # Wait for the page's script, then for the module and model.json.
            browser.evaluate("""new Promise((done, fail) => {
                const start = Date.now();
                (function poll() {
                    if (window.sinewDemo) return window.sinewDemo.ready.then(done, fail);
                    if (Date.now() - start > 20000) return fail(new Error('no sinewDemo after 20 s'));
                    setTimeout(poll, 50);
                })();
            })""")
            digits = browser.evaluate(f"""(() => {{
                const digits = {json.dumps([d["pixels"] for d in model["digits"]])};
                return digits.map(p => {{
                    const r = sinewDemo.classify(new Float32Array(p));
                    return {{ class: r.class, probabilities: r.probabilities }};
                }});
            }})()""")
            micros = browser.evaluate(f"""(() => {{
                const p = new Float32Array({json.dumps(model["digits"][0]["pixels"])});
                sinewDemo.classify(p);
                const runs = [];
                for (let r = 0; r < 15; r++) {{
                    const t0 = performance.now();
                    for (let i = 0; i < 20; i++) sinewDemo.classify(p);
                    runs.push((performance.now() - t0) * 1000 / 20);
                }}
                runs.sort((a, b) => a - b);
                return runs[7];
            }})()""")
            json.dump({"digits": digits, "micros_per_inference": micros}, open(results_path, "w"))
            browser.evaluate(f"sinewDemo.show(new Float32Array({json.dumps(model['digits'][3]['pixels'])}))")
            shot = browser.send("Page.captureScreenshot", {"format": "png"})
            with open(screenshot_path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
