# mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v1 with the official R101 recipe's changes (kostas1515/AGLU
# configs/activations/mask_rcnn_r101_fpn_8x2_sample1e-3_mstrain_lvis_2x.py; `aglu_r101_model` of
# ./_base_/aglu_model.py): the SE-R101-AGLU backbone, NormedConv2d(tau=20) masks and deconvolution instead of CARAFE.
_base_ = './mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v1.py'
model = {{_base_.aglu_r101_model}}
