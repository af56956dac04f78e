# APA / AGLU on LVIS v1 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v1.py with the official SE-R50 whose
# ReLUs are AGLUs and whose SE gates are APAs (SEResNetAGLU, from the official ImageNet-1K SE-R50-AGLU-APA weights),
# GOL's classifier (GumbelLoss, lambda_ 0.0011, the AGLU fork's logit clamp [-10, 10], fc_cls Constant(0.001, -2)),
# the learnable-temperature NormedConv2d mask predictor with the CARAFE upsampler, test NMS IoU 0.3 and mask threshold
# 0.4, 2 images per GPU on 8 GPUs (kostas1515/AGLU mmdetection_v3.2/configs/activations/
# mask_rcnn_r50_fpn_8x2_sample1e-3_mstrain_lvis_2x.py). The LVIS v1 configs of this folder inherit it.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v1.py'
model = dict(
    # the official ImageNet-1K SE-R50-AGLU-APA checkpoint (kostas1515/AGLU classification/README.md, top-1 78.7);
    # torchvision-style keys (conv1, bn1, layer1.0.unirect1.lambda_param, ...), see ./README.md
    backbone=dict(type='SEResNetAGLU', init_cfg=dict(
        type='Pretrained',
        checkpoint='pretrained/imagenet_full_se_r50_cosine_scheduler_mixup_aug_unirect_relinse_99.pth')),
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(_delete_=True, type='GumbelLoss', num_classes={{_base_.num_classes}}, lambda_=0.0011,
                          logit_clamp=(-10.0, 10.0), class_stats={{_base_.class_stats}}),
            # official: every fc_cls weight 0.001 and bias -2; an init_cfg replaces the bbox head's default one, so
            # fc_reg and shared_fcs keep PyTorch's default init, as in the official runs
            init_cfg=dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))),
        mask_head=dict(
            predictor_cfg=dict(type='LearnableTempNormedConv2d'),  # official NormedConv2d(learnable_temp=True)
            upsample_cfg=dict(type='carafe', scale_factor=2, up_kernel=5, up_group=1, encoder_kernel=3,
                              encoder_dilation=1, compressed_channels=64))),
    test_cfg=dict(rcnn=dict(nms=dict(type='nms', iou_threshold=0.3), mask_thr_binary=0.4)))  # official AGLU test
train_dataloader = dict(batch_size=2)  # official: 2 images per GPU on 8 GPUs (16 at lr 0.02)
