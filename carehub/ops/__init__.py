"""Operations views of the hub: consumer lag and its status, Prometheus metrics, the dashboard."""
