# Focal loss (gamma 2, x 2.0) without re-weighting or resampling: the "Focal" row. tools/dist_train.sh THIS 8
_base_ = ['./bce_resnet50-pfc_8xb32_coco-mlt_8e.py']
model = dict(head=dict(loss=dict(focal=True)))
