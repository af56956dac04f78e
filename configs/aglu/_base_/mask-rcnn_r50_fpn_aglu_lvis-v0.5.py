# APA / AGLU on LVIS v0.5 without a schedule, an ltmm extension (the official code and paper have LVIS v1 only): GOL's
# LVIS v0.5 base (../../gol/_base_/mask-rcnn_r50_fpn_gol_lvis-v0.5.py: GumbelLoss with GOL's v0.5 lambda_ 0.00177,
# fc_cls Constant(0.001, -2), test NMS IoU 0.3) with what ./aglu_model.py changes, as the LVIS v1 base does. The LVIS
# v0.5 configs of this folder inherit it.
_base_ = ['../../gol/_base_/mask-rcnn_r50_fpn_gol_lvis-v0.5.py', './aglu_model.py']
model = {{_base_.aglu_model}}
train_dataloader = dict(batch_size=2)  # as the official LVIS v1 recipe: 2 images per GPU on 8 GPUs
