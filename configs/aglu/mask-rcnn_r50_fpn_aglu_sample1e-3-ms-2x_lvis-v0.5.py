# APA / AGLU (Alexandridis et al., ECCV 2024) on LVIS v0.5, an ltmm extension (the official recipe is LVIS v1's):
# SE-Mask R-CNN R50-FPN with AGLU activations, APA SE gates and GOL's classifier, repeat factor sampling (t = 1e-3),
# multi-scale 640-800, 2x (24 epochs, steps 16 / 22), 8 GPUs x 2 images. Model, data and method:
# ./_base_/mask-rcnn_r50_fpn_aglu_lvis-v0.5.py; the R101 config inherits this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_aglu_lvis-v0.5.py', '../_base_/schedules/lvis_2x.py']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.lvis_train_dataset}}))
