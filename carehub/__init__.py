"""carehub: the data-exchange hub of a basic elderly-care service platform (基本养老服务综合平台)."""

__version__ = "0.1.0"
