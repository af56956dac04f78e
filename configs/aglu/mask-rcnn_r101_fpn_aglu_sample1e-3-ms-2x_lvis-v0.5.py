# mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v0.5 (an ltmm extension) with the SE-R101-AGLU backbone (official
# ImageNet-1K weights) and, as the official R101 config (kostas1515/AGLU configs/activations/
# mask_rcnn_r101_fpn_8x2_sample1e-3_mstrain_lvis_2x.py), a fixed-temperature NormedConv2d(tau=20) mask predictor and
# mmdet's deconvolution upsampler instead of CARAFE.
_base_ = './mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v0.5.py'
model = dict(
    backbone=dict(depth=101, init_cfg=dict(
        checkpoint='pretrained/imagenet_full_se_r101_cosine_scheduler_mixup_aug_unirect_relinse_softplus_99')),
    roi_head=dict(mask_head=dict(
        predictor_cfg=dict(_delete_=True, type='NormedConv2d', tempearture=20),  # (sic) mmdet's argument name
        upsample_cfg=dict(_delete_=True, type='deconv', scale_factor=2))))
