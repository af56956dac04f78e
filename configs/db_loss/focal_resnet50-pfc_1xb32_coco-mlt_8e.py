# Focal loss (gamma 2, x 2.0) without re-weighting or resampling: the "Focal" row. python tools/train.py THIS
_base_ = ['./bce_resnet50-pfc_1xb32_coco-mlt_8e.py']
model = dict(head=dict(loss=dict(focal=True)))
