"""Long-tail losses, one file per method, registered into mmdet's and/or mmpretrain's MODELS."""
