# What APA / AGLU changes in GOL's Mask R-CNN R50-FPN (kostas1515/AGLU mmdetection_v3.2/configs/activations/
# mask_rcnn_r50_fpn_8x2_sample1e-3_mstrain_lvis_2x.py), as one variable, `aglu_model`, that the LVIS v1 and v0.5 bases
# of this folder merge into GOL's model of the same LVIS version (a base that set `model` itself could not sit beside
# GOL's base: mmengine refuses a key defined by two bases).
aglu_model = dict(
    # the official ImageNet-1K SE-R50-AGLU-APA checkpoint (kostas1515/AGLU classification/README.md, top-1 78.7);
    # torchvision-style keys (conv1, bn1, layer1.0.unirect1.lambda_param, ...), see ../README.md
    backbone=dict(type='SEResNetAGLU', init_cfg=dict(
        type='Pretrained',
        checkpoint='pretrained/imagenet_full_se_r50_cosine_scheduler_mixup_aug_unirect_relinse_99.pth')),
    # GOL's GumbelLoss and fc_cls Constant(0.001, -2) from GOL's base, with the AGLU fork's logit clamp
    roi_head=dict(
        bbox_head=dict(loss_cls=dict(logit_clamp=(-10.0, 10.0))),
        mask_head=dict(
            predictor_cfg=dict(_delete_=True, type='LearnableTempNormedConv2d'),  # official learnable_temp=True
            upsample_cfg=dict(type='carafe', scale_factor=2, up_kernel=5, up_group=1, encoder_kernel=3,
                              encoder_dilation=1, compressed_channels=64))),
    test_cfg=dict(rcnn=dict(mask_thr_binary=0.4)))  # official AGLU test (NMS IoU 0.3 from GOL's base)
# What the R101 recipe changes in the R50 one (kostas1515/AGLU configs/activations/
# mask_rcnn_r101_fpn_8x2_sample1e-3_mstrain_lvis_2x.py): the SE-R101-AGLU backbone (official ImageNet-1K weights), a
# fixed-temperature NormedConv2d(tau=20) mask predictor and mmdet's deconvolution upsampler instead of CARAFE; merged
# by the R101 configs of both LVIS versions.
aglu_r101_model = dict(
    backbone=dict(depth=101, init_cfg=dict(
        checkpoint='pretrained/imagenet_full_se_r101_cosine_scheduler_mixup_aug_unirect_relinse_softplus_99')),
    roi_head=dict(mask_head=dict(
        predictor_cfg=dict(_delete_=True, type='NormedConv2d', tempearture=20),  # (sic) mmdet's argument name
        upsample_cfg=dict(_delete_=True, type='deconv', scale_factor=2))))
