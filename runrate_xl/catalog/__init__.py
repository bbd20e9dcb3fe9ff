"""Price and GPU catalogs (data files with source and as-of date) and scenario resolution."""

from .gpus import GpuInstance, gpu_catalog, lookup_gpu
from .prices import ModelPrices, PricedValue, lookup_prices, model_names
from .resolve import resolve

__all__ = ["GpuInstance", "gpu_catalog", "lookup_gpu", "ModelPrices", "PricedValue", "lookup_prices", "model_names", "resolve"]
