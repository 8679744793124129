"""Several studios behind one nginx with sticky sessions: the layout docs/sharing.md shows, started for real.

A visitor's page state lives in its websocket to one studio process, and the files a page hands out
(audio, downloads) are kept by that process; so every request of one visitor must reach the same
replica. nginx's open-source edition has no sticky-cookie directive, and ``ip_hash`` sends everyone
behind one address (an office, a phone carrier, or 127.0.0.1 in a test) to one replica, so the
configuration here pins a visitor by a cookie nginx sets itself: the first request picks a replica
by its random ``$request_id`` (``hash … consistent``), and the cookie carrying that key brings
every later request (the websocket included) back to it. Each response says which replica served it
(``X-Chordsmith-Replica``) and the access log records it, for the test that proves the layout
(``tests/test_replicas_nginx.py``).

:func:`nginx_config` writes the configuration (unprivileged: a high port on 127.0.0.1, every path
in one folder); :func:`nginx_proxy` runs nginx on it in the foreground until the block ends.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.studio_server import free_port, stop_process, wait_for_server

#: nginx as Debian installs it (``apt-get install nginx``); ``None`` when there is none.
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
#: the cookie that pins a visitor to a replica.
REPLICA_COOKIE = "chordsmith_replica"
#: the response header naming the replica that served a request (``127.0.0.1:PORT``).
REPLICA_HEADER = "X-Chordsmith-Replica"
START_S = 15


def nginx_config(folder: Path, port: int, replicas: list[str]) -> Path:
    """Write ``folder/nginx.conf``: listen on 127.0.0.1:``port``, spread visitors over ``replicas`` (``host:port``)."""
    servers = "\n".join(f"        server {replica};" for replica in replicas)
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    text = f"""# Chordsmith replicas behind nginx (bench/replicas.py; the same layout as docs/sharing.md)
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    log_format replicas '$request_method $uri $status upstream=$upstream_addr key=$replica_key';
    access_log {folder / "access.log"} replicas;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    proxy_max_temp_file_size 0;   # large answers stream through memory: nothing written under the worker's user

    # sticky sessions: a visitor keeps the key of their first request in a cookie, and the key picks the replica
    map $cookie_{REPLICA_COOKIE} $replica_key {{
        ""      $request_id;
        default $cookie_{REPLICA_COOKIE};
    }}
    map $cookie_{REPLICA_COOKIE} $replica_cookie {{
        ""      "{REPLICA_COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      close;
    }}

    upstream chordsmith {{
        hash $replica_key consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://chordsmith;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;          # Streamlit talks over a websocket
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 86400;                        # keep idle visitors' websockets open
            add_header Set-Cookie $replica_cookie always;   # only on a visitor's first request
            add_header {REPLICA_HEADER} $upstream_addr always;
        }}
    }}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def nginx_proxy(folder: Path, replicas: list[str]) -> Iterator[str]:
    """nginx in front of ``replicas`` until the block ends; yields its base URL (raises without nginx)."""
    if NGINX is None:
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = nginx_config(folder, port, replicas)
    base = f"http://127.0.0.1:{port}"
    with (folder / "nginx.out").open("ab") as out:
        process = subprocess.Popen([NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config),
                                    "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_server(base, process, START_S, name="nginx", log=folder / "error.log")
            yield base
        finally:
            stop_process(process)


def first_visit(base: str) -> tuple[str, str]:
    """One request as a new visitor: (the replica that served it, the cookie value that pins a visitor there)."""
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as response:
        replica = response.headers[REPLICA_HEADER]
        cookie = next(value.split(";", 1)[0].split("=", 1)[1] for value in response.headers.get_all("Set-Cookie") or []
                      if value.startswith(f"{REPLICA_COOKIE}="))
    return replica, cookie


def access_log(folder: Path) -> list[dict[str, str]]:
    """The proxy's access log: method, path, status, the replica that served (``upstream``) and the visitor's key."""
    rows = []
    path = folder / "access.log"
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        method, uri, status, *rest = line.split()
        fields = dict(part.split("=", 1) for part in rest if "=" in part)
        rows.append({"method": method, "uri": uri, "status": status, **fields})
    return rows

