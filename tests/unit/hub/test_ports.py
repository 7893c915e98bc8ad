import socket

from hub import ports
from hub.stack import processes


def test_port_checks() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not ports.port_is_free("127.0.0.1", port)
        assert ports.port_answers("127.0.0.1", port)
        assert not ports.wait_port_free("127.0.0.1", port, timeout_s=0.3)


def test_listening_ports_avoid_the_ephemeral_range() -> None:
    low, high = ports.ephemeral_range()
    drawn = {ports.listening_port() for _ in range(20)}
    assert all(not low <= port <= high and ports.port_is_free("127.0.0.1", port) for port in drawn)
    assert len(drawn) > 1  # drawn at random: two stacks do not race for one port


def test_the_stack_still_finds_them_in_processes() -> None:
    for name in ("port_is_free", "port_answers", "wait_port_free", "listening_port"):
        assert getattr(processes, name) is getattr(ports, name)
