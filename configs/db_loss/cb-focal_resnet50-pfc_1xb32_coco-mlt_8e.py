# Class-balanced focal loss (Cui et al.: (1 - beta) / (1 - beta^n), beta 0.9, averaged over an image's positive
# classes, as the DB-loss code's CB mode 'average_w'), no resampling: the "CB-Focal" row. python tools/train.py THIS
_base_ = ['./bce_resnet50-pfc_1xb32_coco-mlt_8e.py']
model = dict(head=dict(loss=dict(reweight='CB', cb_beta=0.9, cb_mode='average_w', focal=True)))
