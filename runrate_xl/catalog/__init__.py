"""Catalogs (data files with source and as-of date for every value) and scenario resolution:
API prices, open models, GPUs, cloud instances with price history, published throughput and
server purchase prices."""

from .gpu_specs import GpuSpec, gpu_specs, lookup_gpu_spec
from .instances import TERMS, CloudInstance, InstancePrice, instance_catalog, lookup_instance
from .models import ModelSpec, lookup_model, model_catalog
from .prices import ModelPrices, PricedValue, lookup_prices, model_names
from .resolve import resolve
from .servers import ServerPrice, lookup_server, server_catalog
from .throughput import InstanceCapacity, ThroughputFigure, instance_capacity, throughput_catalog

__all__ = [
    "GpuSpec", "gpu_specs", "lookup_gpu_spec", "TERMS", "CloudInstance", "InstancePrice", "instance_catalog",
    "lookup_instance", "ModelSpec", "lookup_model", "model_catalog", "ModelPrices", "PricedValue", "lookup_prices",
    "model_names", "resolve", "ServerPrice", "lookup_server", "server_catalog", "InstanceCapacity", "ThroughputFigure",
    "instance_capacity", "throughput_catalog",
]
