"""Long-tail classifier heads (mmpretrain) and bbox heads (mmdet)."""
