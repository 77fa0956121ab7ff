"""``dophu serve [--host H] [--port P]``: the JSON API and the web pages under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    from dophu.cli import BadInput, context_of, handle_errors

    @app.command("serve")
    @handle_errors
    def serve(
        typer_ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="Address to listen on "
                                          "(0.0.0.0: every interface)")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                          help="TCP port")] = 8000,
        proxy_headers: Annotated[bool, typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-Proto/For from a reverse proxy on this host")] = False,
        log_level: Annotated[str, typer.Option("--log-level")] = "info",
    ) -> None:
        """The HTTP API (/api/..., /openapi.json, /healthz, /metrics) and the web pages."""
        import uvicorn

        from api.app import create_app
        from api.auth import TokenConfigError

        context = context_of(typer_ctx)
        try:
            web_app = create_app(context)
        except TokenConfigError as exc:
            raise BadInput(str(exc)) from None
        typer.echo(f"dophu: serving http://{host}:{port}/ (plan {context.plan.id}, "
                   f"{len(context.sources)} sources)", err=True)
        uvicorn.run(web_app, host=host, port=port, proxy_headers=proxy_headers,
                    forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
                    log_level=log_level.lower(), server_header=False)
