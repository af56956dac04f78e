# APA / AGLU on LVIS v1 without a schedule: GOL's LVIS v1 base (../../gol/_base_/mask-rcnn_r50_fpn_gol_lvis-v1.py:
# GumbelLoss with lambda_ 0.0011, fc_cls Constant(0.001, -2), test NMS IoU 0.3) with what ./aglu_model.py changes: the
# official SE-R50 whose ReLUs are AGLUs and whose SE gates are APAs (SEResNetAGLU, from the official ImageNet-1K
# SE-R50-AGLU-APA weights), the logit clamp [-10, 10], the learnable-temperature NormedConv2d mask predictor with the
# CARAFE upsampler and mask threshold 0.4; 2 images per GPU on 8 GPUs (kostas1515/AGLU mmdetection_v3.2/configs/
# activations/mask_rcnn_r50_fpn_8x2_sample1e-3_mstrain_lvis_2x.py). The LVIS v1 configs of this folder inherit it.
_base_ = ['../../gol/_base_/mask-rcnn_r50_fpn_gol_lvis-v1.py', './aglu_model.py']
model = {{_base_.aglu_model}}
train_dataloader = dict(batch_size=2)  # official: 2 images per GPU on 8 GPUs (16 at lr 0.02)
