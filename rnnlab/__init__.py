"""RNN Lab: explore recurrent neural networks on time series."""

__version__ = "0.1.0"
